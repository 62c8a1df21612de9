using Conduit.Grains;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Gateway;

/// <summary>
/// Message budgets: -32001 with retryAfterMs past the tier's rate; tenants are independent. The host's clock stands
/// still, so the budget is not refilled while a test runs (the free tier gets one message back every 2 s: on the real
/// clock a slow run took that long for its first 30 messages, and the 31st passed).
/// </summary>
public sealed class GatewayRateLimitTests
{
    [Fact]
    public async Task Message_ThirtyFirstWithinAMinuteOfFreeTenant_RateLimitedWithRetryAfter()
    {
        var clock = new FakeTimeProvider();
        await using var host = await GatewayTestHost.StartAsync(time: clock);
        await using var client = await host.ConnectAsync(GatewayTestHost.FreeKey);

        for (var i = 1; i <= 30; i++)
        {
            await client.SendAsync(JsonAssert.Request(i, "ping"));
            var ok = JsonAssert.Parse(await client.ReceiveAsync());
            Assert.True(ok.TryGetProperty("result", out _), $"message {i} was refused: {ok}");
        }

        await client.SendAsync(JsonAssert.Request(31, "ping"));
        var refused = JsonAssert.Parse(await client.ReceiveAsync());

        Assert.Equal(-32001, JsonAssert.ErrorCode(refused));
        Assert.Equal("31", JsonAssert.Id(refused));
        var retryAfterMs = refused.GetProperty("error").GetProperty("data").GetProperty("retryAfterMs").GetInt64();
        Assert.InRange(retryAfterMs, 1, 2000);

        // Once that time has passed, the budget has a message again (30 a minute: one every 2 s), and one only.
        clock.Advance(TimeSpan.FromMilliseconds(retryAfterMs));
        await client.SendAsync(JsonAssert.Request(32, "ping"));
        var again = JsonAssert.Parse(await client.ReceiveAsync());
        Assert.True(again.TryGetProperty("result", out _), $"refused after its retry-after: {again}");
        await client.SendAsync(JsonAssert.Request(33, "ping"));
        Assert.Equal(-32001, JsonAssert.ErrorCode(JsonAssert.Parse(await client.ReceiveAsync())));
    }

    [Fact]
    public async Task Message_EnterpriseTenant_NotTouchedByFreeTenantsUsage()
    {
        await using var host = await GatewayTestHost.StartAsync(time: new FakeTimeProvider());
        await using var free = await host.ConnectAsync(GatewayTestHost.FreeKey);
        await using var big = await host.ConnectAsync(GatewayTestHost.BigKey);

        // Use up free1's budget with one batch of 40.
        var batch = "[" + string.Join(',', Enumerable.Range(1, 40).Select(i => JsonAssert.Request(i, "ping"))) + "]";
        await free.SendAsync(batch);
        var answers = JsonAssert.Parse(await free.ReceiveAsync()).EnumerateArray().ToList();
        Assert.Equal(40, answers.Count);
        Assert.Equal(10, answers.Count(a => a.TryGetProperty("error", out var e) && e.GetProperty("code").GetInt32() == -32001));

        for (var i = 0; i < 40; i++)
        {
            await big.SendAsync(JsonAssert.Request(i, "ping"));
            Assert.True(JsonAssert.Parse(await big.ReceiveAsync()).TryGetProperty("result", out _));
        }

        var usage = await host.Grains.GetGrain<IQuotaGrain>(QuotaGrainKeys.Global).GetUsage();
        Assert.Equal(30, usage.Single(u => u.Tenant == "free1").MessagesGranted);
        Assert.Equal("enterprise", usage.Single(u => u.Tenant == "big").Tier);
    }
}
