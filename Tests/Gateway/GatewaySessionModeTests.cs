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
}
