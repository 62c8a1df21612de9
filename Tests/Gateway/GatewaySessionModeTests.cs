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
}
