// rpc-websockets' Node client, unmodified, against the gateway: node rpc-websockets.mjs <ws url with api_key>.
// Prints one JSON object with what each call gave.
import { Client } from "rpc-websockets";

const url = process.argv[2];
const client = new Client(url, { autoconnect: true, reconnect: false });
await new Promise((resolve, reject) => {
  client.once("open", resolve);
  client.once("error", reject);
});

const out = {};
out.echo = await client.call("echo", ["hello", 42]);
out.add = await client.call("add", [1, 2, 3.5]);
try {
  await client.call("error", { why: "asked" });
  out.error = "no error";
} catch (error) {
  out.error = error;
}
await client.notify("echo", ["a notification"]);
out.concurrent = await Promise.all([1, 2, 3].map((n) => client.call("echo", [n])));
client.close();
console.log(JSON.stringify(out));
