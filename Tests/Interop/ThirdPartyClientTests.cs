using System.Diagnostics;
using System.Text.Json;
using Conduit.Tests.Gateway;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Interop;

/// <summary>
/// Unmodified third-party JSON-RPC clients pointed at the gateway, as users will point theirs: rpc-websockets' Node
/// client, two Ethereum libraries (ethers' WebSocketProvider, viem's webSocket transport) and the Model Context
/// Protocol SDK's client. Each runs in
/// Node (Tests/Interop/clients, installed by scripts/test.sh with <c>npm ci</c>) against the real gateway, grains and
/// test upstream, which speaks enough of each protocol (Tests/Infrastructure/UpstreamSession.cs).
/// </summary>
public sealed class ThirdPartyClientTests
{
    [Fact]
    public async Task RpcWebSockets_Calls_ConcurrentCalls_Notification_UpstreamError()
    {
        await using var host = await GatewayTestHost.StartAsync();

        var result = await NodeClient.RunAsync("rpc-websockets.mjs", host.SocketUri(apiKey: GatewayTestHost.LoadKey));

        Assert.Equal("""["hello",42]""", result.GetProperty("echo").GetRawText());
        Assert.Equal(6.5, result.GetProperty("add").GetDouble());
        Assert.Equal(-32000, result.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("asked", result.GetProperty("error").GetProperty("data").GetProperty("why").GetString());
        Assert.Equal("[[1],[2],[3]]", result.GetProperty("concurrent").GetRawText());
        Assert.Equal(1, host.Upstream.Received.Count(r => r.Method == "echo" && r.IdJson is null)); // the notification went through
    }

    [Fact]
    public async Task Ethers_WebSocketProvider_ChainIdBlockNumber_NewHeadsSubscriptionThroughASessionPool()
    {
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session" });

        var result = await NodeClient.RunAsync("ethers.mjs", host.SocketUri(apiKey: GatewayTestHost.LoadKey));

        Assert.Equal("1337", result.GetProperty("chainId").GetString());
        Assert.Equal(16, result.GetProperty("blockNumber").GetInt32());
        Assert.Equal("[17,18,19]", result.GetProperty("blocks").GetRawText());
        await Eventually.TrueAsync(() => host.Upstream.CountOf("eth_unsubscribe") == 1, because: "ethers did not end its subscription");
    }

    [Fact]
    public async Task Viem_WebSocketTransport_ChainIdBlockNumber_WatchBlockNumberThroughASessionPool()
    {
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session" });

        var result = await NodeClient.RunAsync("viem.mjs", host.SocketUri(apiKey: GatewayTestHost.LoadKey));

        Assert.Equal(1337, result.GetProperty("chainId").GetInt32());
        Assert.Equal(16, result.GetProperty("blockNumber").GetInt32());
        Assert.Equal("[17,18,19]", result.GetProperty("blocks").GetRawText());
    }

    [Fact]
    public async Task McpSdkClient_Handshake_ListTools_CallToolWithProgress_ThroughASessionPool()
    {
        // The SDK's transport asks for subprotocol "mcp" and refuses a server that selects none.
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session", ["Pools:up:SubProtocol"] = "mcp" });

        // Node 20 has the WebSocket class the SDK's transport uses behind a flag (Node 22 has it without).
        var result = await NodeClient.RunAsync("mcp.mjs", host.SocketUri(apiKey: GatewayTestHost.LoadKey), "--experimental-websocket");

        Assert.Equal("conduit-test-upstream", result.GetProperty("server").GetString());
        Assert.Equal("""["echo"]""", result.GetProperty("tools").GetRawText());
        Assert.Equal("hello over MCP", result.GetProperty("text").GetString());
        Assert.Equal("[1,2]", result.GetProperty("progress").GetRawText()); // sent before the result, so received before it
        Assert.Equal("[]", result.GetProperty("errors").GetRawText());
        Assert.Equal(1, host.Upstream.CountOf("notifications/initialized"));
    }

    /// <summary>Runs a client script of Tests/Interop/clients with Node and returns the JSON object it printed last.</summary>
    private static class NodeClient
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

        public static async Task<JsonElement> RunAsync(string script, Uri url, params string[] nodeOptions)
        {
            var directory = ClientsDirectory();
            var start = new ProcessStartInfo("node")
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in nodeOptions.Append(script).Append(url.ToString()))
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{script} did not finish within {Timeout.TotalSeconds} s. Its output: {await stdout} {await stderr}");
            }

            var output = await stdout;
            Assert.True(process.ExitCode == 0, $"{script} exited with {process.ExitCode}: {await stderr} {output}");
            var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
                ?? throw new InvalidOperationException($"{script} printed nothing: {await stderr}");
            return JsonDocument.Parse(last).RootElement.Clone();
        }

        /// <summary>Tests/Interop/clients of the checkout the tests were built from, with its packages installed.</summary>
        private static string ClientsDirectory()
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var clients = Path.Combine(directory.FullName, "Tests", "Interop", "clients");
                if (File.Exists(Path.Combine(clients, "package.json")))
                {
                    Assert.True(
                        Directory.Exists(Path.Combine(clients, "node_modules")),
                        $"The interop clients are not installed: run scripts/test.sh (the README's test command), or npm ci --prefix {clients}");
                    return clients;
                }
            }

            throw new InvalidOperationException("Tests/Interop/clients not found above " + AppContext.BaseDirectory);
        }
    }
}
