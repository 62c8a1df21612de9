// ethers v6's WebSocketProvider, unmodified, against the gateway (a session-mode pool):
// node ethers.mjs <ws url with api_key>. Prints one JSON object: chain id, block number, and the blocks its
// newHeads subscription announced.
import { WebSocketProvider } from "ethers";

// ethers sends eth_unsubscribe without waiting for its answer when a listener is removed, and destroy() cancels that
// request if it is still pending: its rejection is expected here, any other is not.
process.on("unhandledRejection", (error) => {
  if (error?.shortMessage !== "provider destroyed; cancelled request") {
    throw error;
  }
});

const url = process.argv[2];
const provider = new WebSocketProvider(url);
const out = {};
out.chainId = (await provider.getNetwork()).chainId.toString();
out.blockNumber = await provider.getBlockNumber();
out.blocks = await new Promise((resolve, reject) => {
  const seen = [];
  const timer = setTimeout(() => reject(new Error("blocks seen before the timeout: " + JSON.stringify(seen))), 10000);
  const listener = (block) => {
    seen.push(block);
    if (seen.length === 3) {
      clearTimeout(timer);
      // off() queues eth_unsubscribe to be sent with the next batch; a request queued after it is sent no earlier.
      provider.off("block", listener).then(() => provider.send("eth_blockNumber", [])).then(() => resolve(seen), reject);
    }
  };
  provider.on("block", listener);
});
await provider.destroy();
console.log(JSON.stringify(out));
