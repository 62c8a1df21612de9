using System.Net.WebSockets;
using System.Text.Json;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Gateway;

/// <summary>A plain JSON-RPC client through gateway, grains and a real upstream.</summary>
public sealed class GatewayRoundTripTests : IAsyncLifetime
{
    private GatewayTestHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Request_Echo_AnsweredWithClientId()
    {
        await using var client = await _host.ConnectAsync(GatewayTestHost.FreeKey);

        await client.SendAsync(JsonAssert.Request("abc", "echo", "{\"x\":1}"));
        var answer = JsonAssert.Parse(await client.ReceiveAsync());

        Assert.Equal("\"abc\"", JsonAssert.Id(answer));
        Assert.Equal(1, answer.GetProperty("result").GetProperty("x").GetInt32());
    }

    [Fact]
    public async Task Request_ApiKeyInQuery_Works()
    {
        await using var client = await TestWebSocketClient.ConnectAsync(_host.SocketUri(apiKey: GatewayTestHost.FreeKey));

        await client.SendAsync(JsonAssert.Request(1, "add", "[2,3]"));

        Assert.Equal(5, JsonAssert.Parse(await client.ReceiveAsync()).GetProperty("result").GetInt32());
    }

    [Fact]
    public async Task Batch_MixedWithNotificationAndInvalid_OneArrayInOrderWithoutNotification()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("""[{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]},{"jsonrpc":"2.0","method":"echo","params":[9]},{"foo":1},{"jsonrpc":"2.0","id":2,"method":"add","params":[1,1]}]""");
        var answer = JsonAssert.Parse(await client.ReceiveAsync());

        Assert.Equal(JsonValueKind.Array, answer.ValueKind);
        var items = answer.EnumerateArray().ToList();
        Assert.Equal(3, items.Count);
        Assert.Equal("1", JsonAssert.Id(items[0]));
        Assert.Equal(-32600, JsonAssert.ErrorCode(items[1]));
        Assert.Equal(2, items[2].GetProperty("result").GetInt32());
    }

    [Fact]
    public async Task Notification_ReachesUpstream_NoAnswer()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("""{"jsonrpc":"2.0","method":"echo","params":["note"]}""");
        await Eventually.TrueAsync(() => _host.Upstream.CountOf("echo") >= 1);
        await client.SendAsync(JsonAssert.Request(7, "ping"));

        // The first (and only) answer is the ping's: the notification got none.
        Assert.Equal("7", JsonAssert.Id(JsonAssert.Parse(await client.ReceiveAsync())));
    }

    [Fact]
    public async Task Request_UpstreamError_PassedThrough()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync(JsonAssert.Request(3, "error", "{\"why\":\"test\"}"));
        var answer = JsonAssert.Parse(await client.ReceiveAsync());

        Assert.Equal(-32000, JsonAssert.ErrorCode(answer));
        Assert.Equal("3", JsonAssert.Id(answer));
        await client.SendAsync(JsonAssert.Request(4, "nope"));
        Assert.Equal(-32601, JsonAssert.ErrorCode(JsonAssert.Parse(await client.ReceiveAsync())));
    }

    [Fact]
    public async Task Requests_SeveralInFlight_AnsweredAsTheyComplete()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync(JsonAssert.Request("slow", "sleep", "{\"ms\":400}"));
        await client.SendAsync(JsonAssert.Request("fast", "ping"));

        Assert.Equal("\"fast\"", JsonAssert.Id(JsonAssert.Parse(await client.ReceiveAsync())));
        Assert.Equal("\"slow\"", JsonAssert.Id(JsonAssert.Parse(await client.ReceiveAsync())));
    }

    [Fact]
    public async Task ClientClose_Normal_GatewayAnswersClose()
    {
        var client = await _host.ConnectAsync();
        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);

        Assert.Equal(WebSocketState.Closed, client.Socket.State);
        await client.DisposeAsync();
    }
}
