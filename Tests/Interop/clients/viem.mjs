// viem's webSocket transport, unmodified, against the gateway (a session-mode pool): node viem.mjs <ws url with api_key>.
// Prints one JSON object: chain id, block number, and the block numbers its newHeads subscription announced.
import { createPublicClient, webSocket } from "viem";

const url = process.argv[2];
// No reconnect and no keep-alive pings: the script ends when its socket is closed.
const client = createPublicClient({ transport: webSocket(url, { retryCount: 0, reconnect: false, keepAlive: false }) });
const out = {};
out.chainId = await client.getChainId();
out.blockNumber = Number(await client.getBlockNumber({ cacheTime: 0 }));
out.blocks = await new Promise((resolve, reject) => {
  const seen = [];
  const timer = setTimeout(() => reject(new Error("blocks seen before the timeout: " + JSON.stringify(seen))), 10000);
  const unwatch = client.watchBlockNumber({
    poll: false,
    emitMissed: false,
    onBlockNumber: (block) => {
      seen.push(Number(block));
      if (seen.length === 3) {
        clearTimeout(timer);
        unwatch();
        resolve(seen);
      }
    },
    onError: (error) => {
      clearTimeout(timer);
      reject(error);
    },
  });
});
(await client.transport.getRpcClient()).close();
console.log(JSON.stringify(out));
