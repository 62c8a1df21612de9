using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Gateway;

/// <summary>Session mode: messages the upstream sends on its own reach the client holding the session (through the observer).</summary>
public sealed class GatewaySessionModeTests
{
    [Fact]
    public async Task Subscribe_SessionPool_NotificationsReachTheClient()
    {
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session" });
        await using var client = await host.ConnectAsync();

        await client.SendAsync(JsonAssert.Request(1, "subscribe", "{\"count\":3,\"intervalMs\":20}"));
        var answer = JsonAssert.Parse(await client.ReceiveAsync());
        var subscription = answer.GetProperty("result").GetString();
        var pushed = new List<System.Text.Json.JsonElement>();
        for (var i = 0; i < 3; i++)
        {
            pushed.Add(JsonAssert.Parse(await client.ReceiveAsync()));
        }

        Assert.StartsWith("sub-", subscription);
        Assert.All(pushed, p => Assert.Equal("subscription", p.GetProperty("method").GetString()));
        Assert.Equal([0, 1, 2], pushed.Select(p => p.GetProperty("params").GetProperty("result").GetInt32()));
        Assert.All(pushed, p => Assert.Equal(subscription, p.GetProperty("params").GetProperty("subscription").GetString()));
    }

    [Fact]
    public async Task Subscribe_BurstWhileRequestsInFlight_NotificationsInUpstreamOrder_EveryAnswerArrives()
    {
        // Answers are written on the thread that produced them when the socket is free, else queued: either way the
        // upstream's notifications must reach the client in the order it sent them, mixed with concurrent answers.
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session" });
        await using var client = await host.ConnectAsync();
        const int notifications = 500;
        const int requests = 200;

        await client.SendAsync(JsonAssert.Request(0, "subscribe", $"{{\"count\":{notifications},\"intervalMs\":0}}"));
        for (var i = 1; i <= requests; i++)
        {
            await client.SendAsync(JsonAssert.Request(i, "echo", $"[{i}]"));
        }

        var sequence = new List<int>();
        var answered = new HashSet<string>();
        while (sequence.Count < notifications || answered.Count < requests + 1)
        {
            var message = JsonAssert.Parse(await client.ReceiveAsync());
            if (message.TryGetProperty("method", out _))
            {
                sequence.Add(message.GetProperty("params").GetProperty("result").GetInt32());
            }
            else
            {
                Assert.True(message.TryGetProperty("result", out _), message.ToString());
                Assert.True(answered.Add(JsonAssert.Id(message)), "answered twice: " + message);
            }
        }

        Assert.Equal(Enumerable.Range(0, notifications), sequence);
    }

    [Fact]
    public async Task PushesRightAfterAnAnswer_ReachTheClientAfterIt_InTheUpstreamOrder()
    {
        // The upstream answers "notify_me" and sends its notifications at once after the answer, on the same socket. The
        // answer travels back through the grain calls and the notifications through the observer, a shorter way: the
        // gateway must still write them in the upstream's order (docs/gateway.md, "Session mode").
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session" });
        await using var client = await host.ConnectAsync();
        for (var round = 1; round <= 100; round++)
        {
            await client.SendAsync(JsonAssert.Request(round, "notify_me", "{\"count\":3}"));
            var first = JsonAssert.Parse(await client.ReceiveAsync());
            Assert.True(first.TryGetProperty("id", out _), $"round {round}: a notification overtook the answer: {first}");
            Assert.Equal(round.ToString(System.Globalization.CultureInfo.InvariantCulture), JsonAssert.Id(first));
            for (var i = 0; i < 3; i++)
            {
                var pushed = JsonAssert.Parse(await client.ReceiveAsync());
                Assert.Equal(i, pushed.GetProperty("params").GetProperty("seq").GetInt32());
            }
        }
    }

    [Fact]
    public async Task PushesRightAfterAnAnswer_WhileASlowRequestIsInFlight_FollowThatAnswer_NotTheSlowOne()
    {
        // With a request in flight the whole time, only the answers' places in the upstream's order can tell the
        // gateway that a push's earlier answer has been written: without them the pushes would wait for the slow
        // request (or the 1 s holdback) and arrive after its answer.
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session" });
        await using var client = await host.ConnectAsync();
        await client.SendAsync(JsonAssert.Request("slow", "sleep", "{\"ms\":3000}"));
        for (var round = 1; round <= 10; round++)
        {
            await client.SendAsync(JsonAssert.Request(round, "notify_me", "{\"count\":2}"));
            var answer = JsonAssert.Parse(await client.ReceiveAsync());
            Assert.Equal(round.ToString(System.Globalization.CultureInfo.InvariantCulture), JsonAssert.Id(answer));
            for (var i = 0; i < 2; i++)
            {
                var pushed = JsonAssert.Parse(await client.ReceiveAsync());
                Assert.True(pushed.TryGetProperty("method", out _), $"round {round}: expected notification {i}, got {pushed}");
            }
        }

        Assert.Equal("\"slow\"", JsonAssert.Id(JsonAssert.Parse(await client.ReceiveAsync(TimeSpan.FromSeconds(15)))));
    }

    [Fact]
    public async Task PushesSentBeforeAnAnswer_ReachTheClientBeforeIt()
    {
        // An MCP server's progress notifications for a tool call come before the call's result; a client drops progress
        // for a call it already has the result of.
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:Mode"] = "Session" });
        await using var client = await host.ConnectAsync();
        await client.SendAsync(JsonAssert.Request(0, "echo", "[0]"));
        Assert.Equal("0", JsonAssert.Id(JsonAssert.Parse(await client.ReceiveAsync())));
        for (var round = 1; round <= 50; round++)
        {
            await client.SendAsync(JsonAssert.Request(round, "tools/call", "{\"name\":\"echo\",\"arguments\":{\"text\":\"t\"},\"_meta\":{\"progressToken\":" + round + "}}"));
            for (var step = 1; step <= 2; step++)
            {
                var progress = JsonAssert.Parse(await client.ReceiveAsync());
                Assert.True(progress.TryGetProperty("method", out _), $"round {round}: the answer overtook progress {step}: {progress}");
            }

            Assert.Equal(round.ToString(System.Globalization.CultureInfo.InvariantCulture), JsonAssert.Id(JsonAssert.Parse(await client.ReceiveAsync())));
        }
    }

    [Fact]
    public async Task PoolWithSubProtocol_SelectedForAClientThatAsksForIt_NotForOthers_TheUpstreamIsAskedForItToo()
    {
        await using var host = await GatewayTestHost.StartAsync(new() { ["Pools:up:SubProtocol"] = "mcp" });

        async Task<string?> SelectedAsync(params string[] asked)
        {
            await using var client = await TestWebSocketClient.ConnectAsync(host.SocketUri(apiKey: GatewayTestHost.LoadKey), o =>
            {
                foreach (var protocol in asked)
                {
                    o.AddSubProtocol(protocol);
                }
            });
            await client.SendAsync(JsonAssert.Request(1, "echo", "[1]"));
            Assert.Contains("\"result\"", await client.ReceiveAsync());
            return client.Socket.SubProtocol;
        }

        Assert.Equal("mcp", await SelectedAsync("mcp"));
        Assert.Equal("mcp", await SelectedAsync("other", "mcp"));
        Assert.Null(await SelectedAsync());
        Assert.Null(await SelectedAsync("other"));
        Assert.NotEmpty(host.Upstream.SubProtocols);
        Assert.All(host.Upstream.SubProtocols, p => Assert.Equal("mcp", p));
    }

    [Fact]
    public async Task SessionEnds_NextSessionGetsAFreshUpstreamConnection_NothingOfThePreviousSessionReachesIt()
    {
        // One connection only: without care the second session would get the first one's socket, subscription and all.
        await using var host = await GatewayTestHost.StartAsync(new()
        {
            ["Pools:up:Mode"] = "Session", ["Pools:up:MinConnections"] = "1", ["Pools:up:MaxConnections"] = "1", ["Pools:up:PreWarming"] = "false",
        });
        await Eventually.TrueAsync(() => host.Upstream.OpenSockets == 1);
        var acceptedBefore = host.Upstream.AcceptedSockets;
        var first = await host.ConnectAsync(apiKey: GatewayTestHost.BigKey);
        await first.SendAsync(JsonAssert.Request(1, "subscribe", "{\"count\":100000,\"intervalMs\":5}"));
        var subscription = JsonAssert.Parse(await first.ReceiveAsync()).GetProperty("result").GetString();
        Assert.Contains(subscription!, await first.ReceiveAsync());
        await first.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await first.DisposeAsync();

        await using var second = await host.ConnectAsync(apiKey: GatewayTestHost.LoadKey);
        await second.SendAsync(JsonAssert.Request(2, "echo", "[2]"));
        // Everything up to the answer, however long the fresh upstream connection takes; then half a second more for
        // anything of the first session's that might still come.
        var received = new List<string>();
        do
        {
            received.Add((await second.ReceiveAsync(TimeSpan.FromSeconds(10)))!);
        }
        while (!JsonAssert.Parse(received[^1]).TryGetProperty("id", out _));

        var quietUntil = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
        while (DateTime.UtcNow < quietUntil)
        {
            try
            {
                received.Add((await second.ReceiveAsync(quietUntil - DateTime.UtcNow))!);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Assert.False(received.Any(m => m.Contains(subscription!, StringComparison.Ordinal)), "the second session got the first one's notifications: " + string.Join(" | ", received.Take(3)));
        Assert.Equal("2", JsonAssert.Id(JsonAssert.Parse(Assert.Single(received))));
        Assert.True(host.Upstream.AcceptedSockets > acceptedBefore, "the second session was given the first session's upstream socket");
        await Eventually.TrueAsync(() => host.Upstream.OpenSockets == 1, because: "the first session's upstream socket was not closed");
    }
}
