using Conduit.Grains;
using Conduit.Grains.Pools;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conduit.Tests.Pools;

public sealed class PoolScalingTests
{
    private static async Task UntilAsync(Func<Task<bool>> condition, string because)
    {
        for (var i = 0; i < 500; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail(because);
    }

    [Fact]
    public async Task Demand_ScalesUpToMaxThenQueues()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "3", ["MaxInFlightPerConnection"] = "2", ["PreWarming"] = "false",
        });
        var pool = host.Grains.GetGrain<IPoolGrain>("main");

        var leases = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => pool.Acquire(new LeaseRequest($"h{i}"))));

        Assert.All(leases, l => Assert.True(l.Granted, l.ErrorMessage));
        Assert.Equal(3, leases.Select(l => l.Connection).Distinct().Count());
        Assert.Equal(3, host.Upstream.AcceptedSockets);
        var info = await pool.GetInfo();
        Assert.Equal((3, 6, 6), (info.Connections, info.LeasesInUse, info.Capacity));
    }

    [Fact]
    public async Task Idle_ConnectionsAboveMinimumClosedAfterIdleTimeout()
    {
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["MinConnections"] = "1", ["MaxConnections"] = "3", ["MaxInFlightPerConnection"] = "1",
                ["PreWarming"] = "false", ["IdleTimeout"] = "00:01:00",
            },
            clock);
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        var leases = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => pool.Acquire(new LeaseRequest($"h{i}"))));
        Assert.Equal(3, host.Upstream.OpenSockets);
        foreach (var lease in leases)
        {
            await pool.Release(lease.LeaseId!, connectionFailed: false);
        }

        await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1));
        Assert.Equal(3, (await pool.GetInfo()).Connections);

        await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(1));
        await UntilAsync(async () => (await pool.GetInfo()).Connections == 1, "idle connections were not closed");
        await Eventually.TrueAsync(() => host.Upstream.OpenSockets == 1);
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    public async Task PreWarming_ForecastOpensAheadOfDemand(bool preWarming, int expectedConnections)
    {
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["MinConnections"] = "1", ["MaxConnections"] = "5", ["MaxInFlightPerConnection"] = "10",
                ["PreWarming"] = preWarming.ToString(), ["LeaseTimeout"] = "01:00:00",
            },
            clock);
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 1, "no first connection");

        // Demand rises to 9 leases: one connection holds them, but the forecast with 25 % headroom wants two.
        for (var i = 0; i < 9; i++)
        {
            Assert.True((await pool.Acquire(new LeaseRequest($"h{i}"))).Granted);
            await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }

        await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == expectedConnections, $"expected {expectedConnections} connections");
        await Task.Delay(100);
        Assert.Equal(expectedConnections, host.Upstream.AcceptedSockets);
    }

    [Theory]
    [InlineData("RoundRobin")]
    [InlineData("LeastConnections")]
    [InlineData("PowerOfTwoChoices")]
    [InlineData("Weighted")]
    public async Task LoadBalancing_SpreadsLeasesOverConnections(string mode)
    {
        // Seeded: with unseeded randomness, 30 weighted or two-choice picks over 3 connections leave one of them with
        // fewer than 4 leases about once in a hundred runs, and the test would fail for nothing.
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["MinConnections"] = "3", ["MaxConnections"] = "3", ["PreWarming"] = "false", ["LoadBalancing"] = mode,
            },
            services: s => s.AddSingleton<PoolRandomness>(new SeededPoolRandomness(2026)));
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 3, "connections did not open");

        var leases = new List<LeaseResult>();
        for (var i = 0; i < 30; i++)
        {
            leases.Add(await pool.Acquire(new LeaseRequest($"h{i}")));
        }

        var perConnection = leases.GroupBy(l => l.Connection).Select(g => g.Count()).ToList();
        // Seen failing once in a loaded full run; say which leases went where (or why they were refused).
        Assert.True(perConnection.Count == 3, string.Join("; ", leases.Select(l => l.Granted ? l.Connection : $"refused {l.ErrorCode} {l.ErrorMessage}")));
        if (mode is "RoundRobin" or "LeastConnections")
        {
            Assert.All(perConnection, n => Assert.Equal(10, n));
        }
        else
        {
            Assert.All(perConnection, n => Assert.InRange(n, 4, 16));
        }
    }

    [Fact]
    public async Task Startup_BadPoolConfiguration_FailsNamingTheValue()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => PoolTestHost.StartAsync(
            new Dictionary<string, string?> { ["MaxConnections"] = "0", ["AcquireTimeout"] = "-00:00:01" },
            upstream: upstream));
        Assert.Contains(error.Failures, f => f.Contains("Pools:main:MaxConnections 0", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Pools:main:AcquireTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestLease_IdleAgentGivesItBack_BusyAgentKeepsIt()
    {
        // The idle release (2 s) is far above the 20 ms between requests, so that a slow moment of the machine does not
        // count as idleness.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "1", ["LeaseIdleRelease"] = "00:00:02" });
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        var agent = host.Grains.GetGrain<IAgentGrain>("t/idle");
        await agent.Open(new AgentOpenRequest("main", "t", "s"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));

        for (var i = 0; i < 10; i++)
        {
            await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo"}""");
            Assert.Equal(1, (await pool.GetInfo()).LeasesInUse);
            await Task.Delay(20);
        }

        await UntilAsync(async () => (await pool.GetInfo()).LeasesInUse == 0, "the idle agent kept its lease");
    }

    [Fact]
    public async Task Startup_ConfiguredPoolsOpenMinimumBeforeFirstUse()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "2" });
        await Eventually.TrueAsync(() => host.Upstream.AcceptedSockets == 2, because: "the pool was not warmed at start-up");
    }
}

internal sealed class SeededPoolRandomness(int seed) : PoolRandomness
{
    private int _created;

    public override Random Create() => new(seed + Interlocked.Increment(ref _created));
}
