using Conduit.Runtime.Cluster;
using Conduit.Runtime.Membership;
using Conduit.Runtime.Transport;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Tests.Cluster;

public sealed class MembershipAgentTests : IAsyncLifetime
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _clock = new();
    private readonly FaultyTable _table = new(new InMemoryMembershipTable());
    private readonly ClusterOptions _options = new() { HeartbeatInterval = Heartbeat, DeathTimeout = TimeSpan.FromSeconds(10) };
    private readonly List<MembershipAgent> _agents = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }
    }

    private async Task<MembershipAgent> StartAsync(int port, Func<SiloAddress, CancellationToken, Task<bool>>? refusesConnections = null)
    {
        var agent = new MembershipAgent(_table, _options, _clock, NullLogger.Instance, Silo(port), null, refusesConnections);
        _agents.Add(agent);
        await agent.SetStatusAsync(SiloStatus.Active, default);
        agent.Start();
        return agent;
    }

    private static SiloAddress Silo(int port) => new("127.0.0.1", port, port);

    /// <summary>Moves the clock one heartbeat at a time and waits for the running agents to finish each tick.</summary>
    private async Task AdvanceAsync(TimeSpan by, params MembershipAgent[] running)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += Heartbeat)
        {
            var targets = running.Select(a => a.CompletedTicks + 1).ToArray();
            _clock.Advance(Heartbeat);
            for (var i = 0; i < running.Length; i++)
            {
                var agent = running[i];
                var target = targets[i];
                Assert.True(await Retry.UntilAsync(() => Task.FromResult(agent.CompletedTicks >= target), TimeSpan.FromSeconds(5)));
            }
        }
    }

    [Fact]
    public async Task Tick_SiloSilentPastDeathTimeout_DeclaredDead()
    {
        var a = await StartAsync(1);
        var b = await StartAsync(2);
        await AdvanceAsync(TimeSpan.FromSeconds(4), a, b);
        await b.DisposeAsync(); // b stops heartbeating, as if killed

        await AdvanceAsync(TimeSpan.FromSeconds(8), a);
        Assert.Equal(SiloStatus.Active, a.View.StatusOf(new SiloAddress("127.0.0.1", 2, 2)));
        await AdvanceAsync(TimeSpan.FromSeconds(4), a);

        var row = (await _table.ReadAllAsync(default)).Find(new SiloAddress("127.0.0.1", 2, 2))!;
        Assert.Equal(SiloStatus.Dead, row.Status);
        Assert.Equal("127.0.0.1:1@1", row.DeclaredDeadBy);
        Assert.Equal(SiloStatus.Active, a.View.StatusOf(new SiloAddress("127.0.0.1", 1, 1)));
    }

    [Fact]
    public async Task Tick_SilentSiloWhoseEndpointRefusesConnections_DeclaredDeadWithoutWaitingForTheDeathTimeout()
    {
        // Two silos stop heartbeating: nothing listens at the first one's endpoint any more (its process is gone), while
        // something still accepts at the second's (a stalled process, or a new one on its port).
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var (gonePort, acceptingPort) = (ServerAddress.FreeLoopbackPort(), ((System.Net.IPEndPoint)listener.LocalEndpoint).Port);
        var probed = new System.Collections.Concurrent.ConcurrentQueue<int>();
        var a = await StartAsync(1, async (silo, ct) =>
        {
            probed.Enqueue(silo.Port);
            return await SiloProbe.RefusesConnectionsAsync(silo, TimeSpan.FromSeconds(2), ct);
        });
        var gone = await StartAsync(gonePort);
        var accepting = await StartAsync(acceptingPort);
        await AdvanceAsync(Heartbeat * 2, a, gone, accepting);
        Assert.Empty(probed); // every heartbeat on time: nobody probed

        await gone.DisposeAsync();
        await accepting.DisposeAsync();
        await AdvanceAsync(Heartbeat * 4, a); // a heartbeat missed (as a sees them), then one tick per declaration

        var snapshot = await _table.ReadAllAsync(default);
        Assert.Equal(SiloStatus.Dead, snapshot.Find(Silo(gonePort))!.Status);
        Assert.Equal(SiloStatus.Active, snapshot.Find(Silo(acceptingPort))!.Status);
        Assert.Contains(acceptingPort, probed);

        await AdvanceAsync(_options.DeathTimeout, a); // the death timeout still decides for the other
        Assert.Equal(SiloStatus.Dead, (await _table.ReadAllAsync(default)).Find(Silo(acceptingPort))!.Status);
    }

    [Fact]
    public async Task Tick_OwnRowDead_RaisesDeclaredDeadOnce()
    {
        var a = await StartAsync(1);
        var raised = 0;
        a.DeclaredDead += () => Interlocked.Increment(ref raised);
        var snapshot = await _table.ReadAllAsync(default);
        await _table.TryWriteAsync(snapshot.Find(new SiloAddress("127.0.0.1", 1, 1))! with { Status = SiloStatus.Dead }, snapshot.Version, default);

        await AdvanceAsync(Heartbeat * 3, a);

        Assert.Equal(1, raised);
    }

    [Fact]
    public async Task Tick_OwnRowMissing_WritesItAgainAndRaisesRowRestored()
    {
        var table = new InMemoryMembershipTable();
        var agent = new MembershipAgent(table, _options, _clock, NullLogger.Instance, new SiloAddress("127.0.0.1", 1, 1), "127.0.0.1:1");
        _agents.Add(agent);
        var restored = 0;
        agent.RowRestored += () => Interlocked.Increment(ref restored);
        agent.Start();

        await AdvanceAsync(Heartbeat, agent);

        Assert.Equal(1, restored);
        Assert.Equal("127.0.0.1:1", Assert.Single((await table.ReadAllAsync(default)).Entries).GatewayEndpoint);
    }

    [Fact]
    public async Task Tick_TableUnavailableLongerThanDeathTimeout_NobodyDeclaredDead()
    {
        var a = await StartAsync(1);
        var b = await StartAsync(2);
        await AdvanceAsync(Heartbeat, a, b);

        _table.Unavailable = true;
        await AdvanceAsync(TimeSpan.FromSeconds(30), a, b);
        _table.Unavailable = false;
        await AdvanceAsync(Heartbeat * 2, a, b);

        var snapshot = await _table.ReadAllAsync(default);
        Assert.All(snapshot.Entries, e => Assert.Equal(SiloStatus.Active, e.Status));
        Assert.Equal(2, a.View.ActiveSilos.Count);
    }

    /// <summary>Fault injection: a table that can be switched to fail like an unreachable Redis.</summary>
    private sealed class FaultyTable(IMembershipTable inner) : IMembershipTable
    {
        public volatile bool Unavailable;

        public Task<MembershipSnapshot> ReadAllAsync(CancellationToken ct) => Check() ?? inner.ReadAllAsync(ct);

        public Task<bool> TryWriteAsync(MembershipEntry entry, long expectedVersion, CancellationToken ct) => Check() is null ? inner.TryWriteAsync(entry, expectedVersion, ct) : Task.FromException<bool>(new RedisUnavailableException("down"));

        public Task<SiloStatus?> HeartbeatAsync(SiloAddress silo, DateTimeOffset now, CancellationToken ct) => Check() is null ? inner.HeartbeatAsync(silo, now, ct) : Task.FromException<SiloStatus?>(new RedisUnavailableException("down"));

        public Task<int> CleanupDeadAsync(DateTimeOffset before, CancellationToken ct) => inner.CleanupDeadAsync(before, ct);

        private Task<MembershipSnapshot>? Check() => Unavailable ? Task.FromException<MembershipSnapshot>(new RedisUnavailableException("down")) : null;
    }
}
