using Conduit.Grains;

namespace Conduit.Tests.Gateway;

/// <summary>Message budgets: -32001 with retryAfterMs past the tier's rate; tenants are independent.</summary>
public sealed class GatewayRateLimitTests
{
    [Fact]
    public async Task Message_ThirtyFirstWithinAMinuteOfFreeTenant_RateLimitedWithRetryAfter()
    {
        await using var host = await GatewayTestHost.StartAsync();
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
    }

    [Fact]
    public async Task Message_EnterpriseTenant_NotTouchedByFreeTenantsUsage()
    {
        await using var host = await GatewayTestHost.StartAsync();
        await using var free = await host.ConnectAsync(GatewayTestHost.FreeKey);
        await using var big = await host.ConnectAsync(GatewayTestHost.BigKey);

        // Use up free1's budget with one batch of 40.
        var batch = "[" + string.Join(',', Enumerable.Range(1, 40).Select(i => JsonAssert.Request(i, "ping"))) + "]";
        await free.SendAsync(batch);
        var answers = JsonAssert.Parse(await free.ReceiveAsync()).EnumerateArray().ToList();
        Assert.Equal(40, answers.Count);
        // 30 per minute, refilled continuously (one more every 2 s): 10 of 40 are refused unless the batch took over 2 s.
        Assert.InRange(answers.Count(a => a.TryGetProperty("error", out var e) && e.GetProperty("code").GetInt32() == -32001), 9, 10);

        for (var i = 0; i < 40; i++)
        {
            await big.SendAsync(JsonAssert.Request(i, "ping"));
            Assert.True(JsonAssert.Parse(await big.ReceiveAsync()).TryGetProperty("result", out _));
        }

        var usage = await host.Grains.GetGrain<IQuotaGrain>(QuotaGrainKeys.Global).GetUsage();
        Assert.InRange(usage.Single(u => u.Tenant == "free1").MessagesGranted, 30, 31);
        Assert.Equal("enterprise", usage.Single(u => u.Tenant == "big").Tier);
    }
}
