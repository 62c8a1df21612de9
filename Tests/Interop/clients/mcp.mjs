// The Model Context Protocol SDK's client over its WebSocket transport, unmodified, against the gateway (a
// session-mode pool): node --experimental-websocket mcp.mjs <ws url with api_key>. Prints one JSON object: the
// server's name, its tools, a tool call's result and the progress notifications that came with it.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { WebSocketClientTransport } from "@modelcontextprotocol/sdk/client/websocket.js";

const url = process.argv[2];
const client = new Client({ name: "conduit-interop-test", version: "1.0.0" });
const errors = [];
client.onerror = (error) => errors.push(String(error));
await client.connect(new WebSocketClientTransport(new URL(url)));

const out = {};
out.server = client.getServerVersion()?.name;
out.tools = (await client.listTools()).tools.map((tool) => tool.name);
const progress = [];
const result = await client.callTool({ name: "echo", arguments: { text: "hello over MCP" } }, undefined, {
  onprogress: (p) => progress.push(p.progress),
});
out.text = result.content[0].text;
out.progress = progress;
out.errors = errors;
await client.close();
console.log(JSON.stringify(out));
