using Conduit.Grains;
using Conduit.Grains.Quotas;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conduit.Tests.Gateway;

/// <summary>The quota grain's rules, driven directly with a fake clock (the end-to-end tests go through the runtime).</summary>
public sealed class QuotaGrainTests
{
    private readonly FakeTimeProvider _clock = new();

    private QuotaGrain Grain(Action<QuotaOptions>? configure = null)
    {
        var options = new QuotaOptions();
        options.Tenants["big"] = new QuotaTenantOptions { Tier = "enterprise" };
        configure?.Invoke(options);
        return new QuotaGrain(Options.Create(options), _clock, NullLogger<QuotaGrain>.Instance);
    }

    [Fact]
    public async Task AcquireSocket_FreeTier_FourthRefusedWithRetryAfter()
    {
        var grain = Grain();
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await grain.AcquireSocket(new("small", "gw", $"s{i}"))).Granted);
        }

        var refused = await grain.AcquireSocket(new("small", "gw", "s3"));

        Assert.False(refused.Granted);
        Assert.Equal("free", refused.Tier);
        Assert.Equal(5000, refused.RetryAfterMs);
        Assert.True((await grain.AcquireSocket(new("big", "gw", "b0"))).Granted);
        var usage = (await grain.GetUsage()).Single(u => u.Tenant == "small");
        Assert.Equal((3, 3, 1L), (usage.Sockets, usage.MaxSockets, usage.RejectedSockets));
    }

    [Fact]
    public async Task ReleaseSocket_FreesThePermit()
    {
        var grain = Grain();
        for (var i = 0; i < 3; i++)
        {
            await grain.AcquireSocket(new("small", "gw", $"s{i}"));
        }

        await grain.ReleaseSocket("s1");

        Assert.True((await grain.AcquireSocket(new("small", "gw", "s3"))).Granted);
    }

    [Fact]
    public async Task RenewPermits_DeadGatewayPermitsExpire_LiveOnesStay()
    {
        var grain = Grain();
        await grain.AcquireSocket(new("small", "dead", "d0"));
        await grain.AcquireSocket(new("small", "dead", "d1"));
        await grain.AcquireSocket(new("small", "live", "l0"));
        Assert.False((await grain.AcquireSocket(new("small", "live", "l1"))).Granted);

        _clock.Advance(TimeSpan.FromSeconds(40));
        await grain.RenewPermits(new("live", new() { ["l0"] = "small" }, []));
        _clock.Advance(TimeSpan.FromSeconds(40));

        Assert.True((await grain.AcquireSocket(new("small", "live", "l1"))).Granted);
        Assert.True((await grain.AcquireSocket(new("small", "live", "l2"))).Granted);
        Assert.False((await grain.AcquireSocket(new("small", "live", "l3"))).Granted);
    }

    [Fact]
    public async Task RenewPermits_AfterStateLoss_ReAdmitsUpToTheLimitAndRevokesTheRest()
    {
        var grain = Grain();

        var result = await grain.RenewPermits(new("gw", new() { ["a"] = "small", ["b"] = "small", ["c"] = "small", ["d"] = "small" }, new() { ["small"] = 4 }));

        Assert.Single(result.Revoked);
        Assert.Equal(4, (await grain.GetUsage()).Single(u => u.Tenant == "small").RejectedMessages);
    }

    [Fact]
    public async Task RequestBudget_FreeTier_ThirtyPerMinuteInSlices_ThenRetryAfter()
    {
        var grain = Grain();
        var total = 0;
        MessageBudgetGrant grant;
        while ((grant = await grain.RequestBudget(new("small", "gw", 50, 0))).Granted > 0)
        {
            Assert.Equal(3, grant.Granted);
            total += grant.Granted;
        }

        Assert.Equal(30, total);
        Assert.Equal(2000, grant.RetryAfterMs);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, (await grain.RequestBudget(new("small", "gw", 50, 0))).Granted);
    }

    [Fact]
    public async Task RequestBudget_EnterpriseTenant_NotTouchedByFreeTenant()
    {
        var grain = Grain();
        while ((await grain.RequestBudget(new("small", "gw", 50, 0))).Granted > 0)
        {
        }

        Assert.Equal(50, (await grain.RequestBudget(new("big", "gw", 50, 0))).Granted);
    }

    [Fact]
    public void Validate_BadTiersAndTenants_EveryProblemNamed()
    {
        var options = new QuotaOptions { DefaultTier = "gold", PermitTtl = TimeSpan.Zero, BudgetSlicesPerMinute = 0 };
        options.Tiers["free"].MaxSockets = -1;
        options.Tenants["acme"] = new QuotaTenantOptions { Tier = "platinum" };

        var failures = new QuotaOptionsValidator().Validate(null, options).Failures!.ToList();

        Assert.Contains(failures, f => f.StartsWith("Quotas:Tiers:free:MaxSockets", StringComparison.Ordinal) && f.Contains("(was -1)", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Quotas:DefaultTier 'gold'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Tenants:acme:Tier 'platinum'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Quotas:PermitTtl", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Quotas:BudgetSlicesPerMinute", StringComparison.Ordinal));
    }

    [Fact]
    public void Defaults_AreTheTiersOfTheDesign()
    {
        var tiers = new QuotaOptions().Tiers;

        Assert.Equal((3, 30), (tiers["free"].MaxSockets, tiers["free"].MessagesPerMinute));
        Assert.Equal((10, 100), (tiers["early"].MaxSockets, tiers["early"].MessagesPerMinute));
        Assert.Equal((15, 200), (tiers["mid"].MaxSockets, tiers["mid"].MessagesPerMinute));
        Assert.Equal((25, 500), (tiers["enterprise"].MaxSockets, tiers["enterprise"].MessagesPerMinute));
        Assert.All(tiers.Values, t => Assert.Equal(TimeSpan.FromHours(24), t.MaxSocketLifetime));
    }
}
