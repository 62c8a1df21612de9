using System.Net.WebSockets;
using System.Text.Json;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Silo;

/// <summary>The default run: demo pool and development key, exactly as the README's first request uses them.</summary>
public sealed class SiloProgramTests
{
    private const string DevKey = "dev-key-conduit-local-only";

    [Fact]
    public async Task DefaultRun_Development_FirstRequestThroughDemoPool()
    {
        await using var silo = await SiloProcess.StartAsync("Development");
        await using var client = await TestWebSocketClient.ConnectAsync(silo.SocketUri("api_key=" + DevKey));

        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo","params":{"hello":"world"}}""");
        var answer = JsonDocument.Parse((await client.ReceiveAsync(TimeSpan.FromSeconds(20)))!).RootElement;

        Assert.Equal("world", answer.GetProperty("result").GetProperty("hello").GetString());
        Assert.Contains("development API key", silo.Output, StringComparison.Ordinal);

        // Odd params (a member given twice) are the upstream's business: answered, without breaking the demo pool's
        // shared socket.
        await client.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"echo","params":{"a":1,"a":2}}""");
        var odd = JsonDocument.Parse((await client.ReceiveAsync(TimeSpan.FromSeconds(20)))!).RootElement;
        Assert.Equal(2, odd.GetProperty("id").GetInt32());
        await client.SendAsync("""{"jsonrpc":"2.0","id":3,"method":"echo","params":[3]}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":3,"result":[3]}""", await client.ReceiveAsync(TimeSpan.FromSeconds(20)));
        Assert.DoesNotContain("demo/1 lost", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadConfiguration_ExitsWithCode1_NamingEveryBadValue_WithoutAStackTrace()
    {
        var (exitCode, output) = await SiloProcess.RunToExitAsync("Development", new()
        {
            ["Pools__demo__MaxConnections"] = "0",
            ["Agents__DedupMaxBytes"] = "-1",
        });

        Assert.Equal(1, exitCode);
        Assert.Contains("The configuration is invalid", output, StringComparison.Ordinal);
        Assert.Contains("Pools:demo:MaxConnections 0", output, StringComparison.Ordinal);
        Assert.Contains("DedupMaxBytes", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoPool_OtherSettingsThanItsUrl_KeepTheDemoUpstream()
    {
        // Trying the demo with, say, more connections must not lose the demo upstream (it used to need a URL then).
        await using var silo = await SiloProcess.StartAsync("Development", new() { ["Pools__demo__MaxConnections"] = "8", ["Pools__demo__MinConnections"] = "2" });
        await using var client = await TestWebSocketClient.ConnectAsync(silo.SocketUri("api_key=" + DevKey));

        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}""");

        Assert.Equal("""{"jsonrpc":"2.0","id":1,"result":[1]}""", await client.ReceiveAsync(TimeSpan.FromSeconds(20)));
        using var http = new HttpClient();
        await Eventually.TrueAsync(
            async () => (await http.GetStringAsync($"http://127.0.0.1:{silo.Port}/api/usage/pools")).Contains("\"connections\":2,", StringComparison.Ordinal),
            because: "MinConnections 2 of the command line was not applied to the demo pool");
    }

    [Fact]
    public async Task DefaultRun_Production_DevelopmentKeyRefusedWithStartUpMessage()
    {
        await using var silo = await SiloProcess.StartAsync("Production");
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(silo.SocketUri("api_key=" + DevKey), new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        Assert.Contains("No API keys are configured", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_DevelopmentKeyHashConfigured_StillRefused()
    {
        await using var silo = await SiloProcess.StartAsync("Production", new()
        {
            ["Tenants__dev__ApiKeyHashes__0"] = Conduit.Gateway.Authentication.ApiKeyHash.ComputeHex(DevKey),
        });
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(silo.SocketUri("api_key=" + DevKey), new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        Assert.Contains("the environment is Production: it is REFUSED", silo.Output, StringComparison.Ordinal);
    }
}
