using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;

namespace Conduit.Tests.Infrastructure;

public sealed class UpstreamServerTests : IAsyncLifetime
{
    private UpstreamServer _server = null!;

    public async Task InitializeAsync() => _server = await UpstreamServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Echo_NumericAndStringIds_AnsweredWithSameIds()
    {
        await using var client = await TestWebSocketClient.ConnectAsync(_server.Url);
        await client.SendAsync("""{"jsonrpc":"2.0","id":7,"method":"echo","params":{"a":1}}""");
        using var first = JsonDocument.Parse((await client.ReceiveAsync())!);
        Assert.Equal(7, first.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(1, first.RootElement.GetProperty("result").GetProperty("a").GetInt32());

        await client.SendAsync("""{"jsonrpc":"2.0","id":"x-1","method":"add","params":[1,2,3]}""");
        using var second = JsonDocument.Parse((await client.ReceiveAsync())!);
        Assert.Equal("x-1", second.RootElement.GetProperty("id").GetString());
        Assert.Equal(6, second.RootElement.GetProperty("result").GetDouble());
        Assert.Equal(1, _server.AcceptedSockets);
        Assert.Equal(1, _server.CountOfId("7"));
        Assert.Equal(1, _server.CountOfId("\"x-1\""));
    }

    [Fact]
    public async Task Batch_WithNotification_AnswersOnlyRequests()
    {
        await using var client = await TestWebSocketClient.ConnectAsync(_server.Url);
        await client.SendAsync("""[{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]},{"jsonrpc":"2.0","method":"echo","params":[2]},{"jsonrpc":"2.0","id":2,"method":"error"}]""");
        using var reply = JsonDocument.Parse((await client.ReceiveAsync())!);
        Assert.Equal(JsonValueKind.Array, reply.RootElement.ValueKind);
        Assert.Equal(2, reply.RootElement.GetArrayLength());
        Assert.Equal(-32000, reply.RootElement[1].GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(3, _server.CountOf("echo") + _server.CountOf("error"));
        Assert.Single(_server.Received, r => r.IsNotification);
    }

    [Fact]
    public async Task KeepMessagesFalse_CountsWithoutKeeping()
    {
        await using var server = await UpstreamServer.StartAsync(keepMessages: false);
        await using var client = await TestWebSocketClient.ConnectAsync(server.Url);
        await client.SendAsync("""[{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]},{"jsonrpc":"2.0","method":"echo","params":[2]}]""");
        Assert.NotNull(await client.ReceiveAsync());

        Assert.Equal(2, server.TotalReceived);
        Assert.Equal(2, server.CountOf("echo"));
        var error = Assert.Throws<InvalidOperationException>(() => server.Received);
        Assert.Contains("keepMessages: false", error.Message);
        server.ResetCounters();
        Assert.Equal(0, server.TotalReceived);
    }

    [Fact]
    public async Task NotifyMe_PushesNotificationsAfterReply()
    {
        await using var client = await TestWebSocketClient.ConnectAsync(_server.Url);
        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"notify_me","params":{"count":2}}""");
        Assert.Contains("\"ok\"", await client.ReceiveAsync());
        Assert.Contains("\"seq\":0", await client.ReceiveAsync());
        Assert.Contains("\"seq\":1", await client.ReceiveAsync());
    }

    [Fact]
    public async Task RefuseConnections_ConnectFails()
    {
        _server.Faults.RefuseConnections = true;
        await Assert.ThrowsAsync<WebSocketException>(() => TestWebSocketClient.ConnectAsync(_server.Url));
        Assert.Equal(1, _server.RefusedConnections);
        Assert.Equal(0, _server.AcceptedSockets);
    }

    [Fact]
    public async Task DropOnRequest_SocketFailsWithoutReply()
    {
        await using var client = await TestWebSocketClient.ConnectAsync(_server.Url);
        _server.Faults.DropOnRequest = true;
        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        await Assert.ThrowsAsync<WebSocketException>(() => client.ReceiveAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task NeverAnswerThenGarbage_BehaveAsSwitched()
    {
        await using var client = await TestWebSocketClient.ConnectAsync(_server.Url);
        _server.Faults.NeverAnswer = true;
        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(1, _server.CountOf("echo"));

        await using var second = await TestWebSocketClient.ConnectAsync(_server.Url);
        _server.Faults.NeverAnswer = false;
        _server.Faults.SendGarbage = true;
        await second.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"echo"}""");
        var garbage = await second.ReceiveAsync();
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(garbage!));
    }

    [Fact]
    public async Task HandshakeDelayAndReplyDelay_AreApplied()
    {
        _server.Faults.HandshakeDelay = TimeSpan.FromMilliseconds(200);
        var started = Stopwatch.GetTimestamp();
        await using var client = await TestWebSocketClient.ConnectAsync(_server.Url);
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(190));

        _server.Faults.ReplyDelay = TimeSpan.FromMilliseconds(150);
        started = Stopwatch.GetTimestamp();
        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        Assert.NotNull(await client.ReceiveAsync());
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(140));
    }

    [Fact]
    public async Task AbortAll_ClientSeesFailureAndOpenSocketsDrops()
    {
        await using var client = await TestWebSocketClient.ConnectAsync(_server.Url);
        Assert.Equal(1, _server.OpenSockets);
        var receive = client.ReceiveAsync(TimeSpan.FromSeconds(5));
        _server.AbortAll();
        await Assert.ThrowsAsync<WebSocketException>(() => receive);
        await Eventually.TrueAsync(() => _server.OpenSockets == 0);
    }
}
