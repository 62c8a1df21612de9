using System.Text.Json;
using Conduit.Grains;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Pools;

public sealed class PoolGrainTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static async Task<IAgentGrain> OpenAgentAsync(PoolTestHost host, string key, string pool = "main")
    {
        var agent = host.Grains.GetGrain<IAgentGrain>(key);
        await agent.Open(new AgentOpenRequest(pool, "t", key), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        return agent;
    }

    /// <summary>Every agent sends echo requests with ids 0 to <paramref name="count"/> - 1, one after the other; the answers per agent.</summary>
    private static Task<List<string>[]> EchoFromEachAsync(IAgentGrain[] agents, int count, TimeSpan within)
        => Task.WhenAll(agents.Select(agent => Task.Run(async () =>
        {
            var answers = new List<string>();
            for (var id = 0; id < count; id++)
            {
                answers.Add((await agent.Send($$"""{"jsonrpc":"2.0","id":{{id}},"method":"echo","params":[{{id}}]}"""))!);
            }

            return answers;
        }))).WaitAsync(within);

    [Fact]
    public async Task GetInfo_UnknownPool_NotConfigured_AcquireFailsWithValue()
    {
        await using var host = await PoolTestHost.StartAsync();
        var pool = host.Grains.GetGrain<IPoolGrain>("nope");

        var info = await pool.GetInfo();
        var lease = await pool.Acquire(new LeaseRequest("t/a"));

        Assert.False(info.Configured);
        Assert.Equal("unknown", info.Status);
        Assert.False(lease.Granted);
        Assert.Equal(JsonRpcErrorCodes.InternalError, lease.ErrorCode);
        Assert.True((await host.Grains.GetGrain<IPoolGrain>("main").GetInfo()).Configured);
    }

    [Fact]
    public async Task Activation_OpensMinConnections()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "3" });
        var pool = await host.UsablePoolAsync(3);

        var info = await pool.GetInfo();
        Assert.Equal("healthy", info.Status);
        Assert.Equal(3, info.Connections);
        Assert.Equal(3 * 64, info.Capacity);
        Assert.Equal(3, host.Upstream.AcceptedSockets);
    }

    [Fact]
    public async Task ManyAgents_ShareFewConnections()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "1", ["MaxConnections"] = "3" });
        var agents = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => OpenAgentAsync(host, $"t/agent-{i}")));

        var replies = await Task.WhenAll(agents.Select((a, i) => a.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo","params":[{{i}}]}""")));

        for (var i = 0; i < replies.Length; i++)
        {
            using var doc = JsonDocument.Parse(replies[i]!);
            Assert.Equal(i, doc.RootElement.GetProperty("id").GetInt32());
            Assert.Equal(i, doc.RootElement.GetProperty("result")[0].GetInt32());
        }

        Assert.InRange(host.Upstream.AcceptedSockets, 1, 3);
        Assert.Equal(60, host.Upstream.CountOf("echo"));
    }

    [Fact]
    public async Task Acquire_Exhausted_WaitersServedInOrder_QueueFullFailsAtOnce()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "1", ["MaxInFlightPerConnection"] = "1",
            ["MaxWaiters"] = "2", ["AcquireTimeout"] = "00:00:05", ["PreWarming"] = "false",
        });
        var pool = await host.UsablePoolAsync(1);

        var first = await pool.Acquire(new LeaseRequest("h0"));
        Assert.True(first.Granted);
        var second = pool.Acquire(new LeaseRequest("h1"));
        await Eventually.TrueAsync(async () => (await pool.GetInfo()).Waiters == 1);
        var third = pool.Acquire(new LeaseRequest("h2"));
        await Eventually.TrueAsync(async () => (await pool.GetInfo()).Waiters == 2);

        var full = await pool.Acquire(new LeaseRequest("h3")).WaitAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(JsonRpcErrorCodes.PoolExhausted, full.ErrorCode);
        Assert.Equal(0, full.WaitedMs);

        await pool.Release(first.LeaseId!, connectionFailed: false);
        var secondLease = await second.WaitAsync(Wait);
        Assert.True(secondLease.Granted);
        Assert.False(third.IsCompleted);

        await pool.Release(secondLease.LeaseId!, connectionFailed: false);
        var thirdLease = await third.WaitAsync(Wait);
        Assert.True(thirdLease.Granted);
        Assert.Equal(1, host.Upstream.AcceptedSockets);
    }

    [Fact]
    public async Task Acquire_PoolFull_BusyAgentYieldsItsLeaseToTheWaiter_AndIsServedAgainAfter()
    {
        // One slot. The busy agent sends without pause, so it never falls idle for LeaseIdleRelease: only the pool's
        // request to yield lets the late agent in before AcquireTimeout (-32002), and then the busy one again.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "1", ["MaxInFlightPerConnection"] = "1",
            ["AcquireTimeout"] = "00:00:05", ["LeaseIdleRelease"] = "00:00:01", ["PreWarming"] = "false",
            ["MaxRequestsPerConnection"] = "1000000000", // no rotation, which would also take the lease away
        });
        var pool = await host.UsablePoolAsync(1);
        var busy = await OpenAgentAsync(host, "t/busy");
        var late = await OpenAgentAsync(host, "t/late");
        using var stop = new CancellationTokenSource();
        var busyAnswers = 0;
        var busyLoop = Task.Run(async () =>
        {
            for (var id = 0; !stop.IsCancellationRequested; id++)
            {
                using var reply = JsonDocument.Parse((await busy.Send($$"""{"jsonrpc":"2.0","id":{{id}},"method":"echo","params":[{{id}}]}"""))!);
                Assert.Equal(id, reply.RootElement.GetProperty("result")[0].GetInt32());
                Volatile.Write(ref busyAnswers, id + 1);
            }
        });
        await Eventually.TrueAsync(() => Volatile.Read(ref busyAnswers) > 20 || busyLoop.IsCompleted);

        // Within AcquireTimeout the late agent gets an answer, not -32002.
        var lateReply = await late.Send("""{"jsonrpc":"2.0","id":"late","method":"echo","params":[7]}""").WaitAsync(Wait);
        Assert.Contains("\"result\":[7]", lateReply, StringComparison.Ordinal);

        var before = Volatile.Read(ref busyAnswers);
        await Eventually.TrueAsync(() => Volatile.Read(ref busyAnswers) > before + 20 || busyLoop.IsCompleted);
        await stop.CancelAsync();
        await busyLoop.WaitAsync(Wait);
        Assert.Equal(0, (await pool.GetInfo()).Waiters);
    }

    [Fact]
    public async Task Acquire_ManyBusyAgentsTurnOverFewSlots_EveryRequestIsAnswered()
    {
        // 100 busy agents, 10 to 30 slots while the pool scales up: leases pass from agent to agent all the time (yields,
        // grants to waiters). A lease asked back around its grant must not turn into an error for the request that waited.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "3", ["MaxInFlightPerConnection"] = "10",
            ["AcquireTimeout"] = "00:00:20", ["PreWarming"] = "false",
        });
        var pool = await host.UsablePoolAsync(1);
        var agents = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => OpenAgentAsync(host, $"t/turnover-{i}")));
        var replies = await EchoFromEachAsync(agents, 40, TimeSpan.FromSeconds(60));

        foreach (var answers in replies)
        {
            for (var id = 0; id < answers.Count; id++)
            {
                Assert.Equal($$"""{"jsonrpc":"2.0","id":{{id}},"result":[{{id}}]}""", answers[id]);
            }
        }

        Assert.Equal(0, (await pool.GetInfo()).Waiters);
    }

    [Fact]
    public async Task Rotation_EveryFewRequestsUnderLoad_EveryRequestIsAnswered()
    {
        // Connections rotate after 25 requests while 40 agents keep them busy: about 150 rotations, each draining a
        // connection, closing it and opening another while agents hold leases on it. Not one request may fail for it.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "2", ["MaxConnections"] = "4", ["MaxInFlightPerConnection"] = "16",
            ["MaxRequestsPerConnection"] = "25", ["AcquireTimeout"] = "00:00:20", ["PreWarming"] = "false",
        });
        await host.UsablePoolAsync(2);
        var agents = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => OpenAgentAsync(host, $"t/rotating-{i}")));
        var replies = await EchoFromEachAsync(agents, 100, TimeSpan.FromSeconds(90));

        var failures = replies.SelectMany(answers => answers.Where((answer, id) => answer != $$"""{"jsonrpc":"2.0","id":{{id}},"result":[{{id}}]}""")).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of 4,000 requests failed, e.g. {failures.FirstOrDefault()}");
        // A connection due for rotation serves on until its replacement is open (make before break), so there are fewer
        // rotations than 4,000 / 25, but many.
        Assert.True(host.Upstream.AcceptedSockets >= 50, $"only {host.Upstream.AcceptedSockets} upstream sockets: the connections did not rotate");
    }

    [Fact]
    public async Task Report_LateReadyForAConnectionThePoolClosed_NotAdoptedAndDrained()
    {
        // A connection the pool has seen closed may never come back through a late report: adopted, it would be a
        // connection with no leases that least-connections keeps choosing, and whose every request fails.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "2", ["PreWarming"] = "false" });
        var pool = await host.UsablePoolAsync(2);
        var closed = (await pool.GetConnections())[0];
        await host.Grains.GetGrain<IConnectionGrain>(closed.Connection).Drain(); // reports Closed to the pool itself
        await Eventually.TrueAsync(() => host.Upstream.OpenSockets == 1 || host.Upstream.AcceptedSockets > 2, Wait);
        await host.UsablePoolAsync(2); // a replacement opens
        Assert.DoesNotContain(await pool.GetConnections(), c => c.Connection == closed.Connection);

        await pool.Report(closed with { State = ConnectionState.Ready, InFlight = 0 });

        Assert.DoesNotContain(await pool.GetConnections(), c => c.Connection == closed.Connection);
        Assert.Equal(2, (await pool.GetInfo()).UsableConnections);
    }

    [Fact]
    public async Task Acquire_PastAcquireTimeout_FailsWith32002AndWaitedMs()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "1", ["MaxInFlightPerConnection"] = "1",
            ["AcquireTimeout"] = "00:00:00.300", ["PreWarming"] = "false",
        });
        var pool = await host.UsablePoolAsync(1);
        Assert.True((await pool.Acquire(new LeaseRequest("holder"))).Granted);

        var waited = await pool.Acquire(new LeaseRequest("late")).WaitAsync(Wait);
        Assert.Equal(JsonRpcErrorCodes.PoolExhausted, waited.ErrorCode);
        Assert.InRange(waited.WaitedMs, 250, 5000);

        // Through an agent the same failure is a JSON-RPC error object with the client's id.
        var agent = await OpenAgentAsync(host, "t/late-agent");
        using var reply = JsonDocument.Parse((await agent.Send("""{"jsonrpc":"2.0","id":"q","method":"echo"}"""))!);
        Assert.Equal("q", reply.RootElement.GetProperty("id").GetString());
        var error = reply.RootElement.GetProperty("error");
        Assert.Equal(JsonRpcErrorCodes.PoolExhausted, error.GetProperty("code").GetInt32());
        Assert.Equal("main", error.GetProperty("data").GetProperty("pool").GetString());
        Assert.True(error.GetProperty("data").GetProperty("waitedMs").GetInt64() >= 250);
        Assert.Equal(0, (await pool.GetInfo()).Waiters);
    }

    [Fact]
    public async Task Lease_HolderVanishes_ReturnsAfterLeaseTimeoutNotBefore()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartOneSessionConnectionAsync(clock);
        var pool = await host.UsablePoolAsync(1);

        // A holder that never renews nor releases, as an agent whose silo died.
        var ghost = await pool.Acquire(new LeaseRequest("t/ghost"));
        Assert.True(ghost.Granted);
        var waiter = pool.Acquire(new LeaseRequest("t/next"));

        // LeaseTimeout is 30 s: at 29 s the ghost still holds the connection; a maintenance tick past 30 s reclaims it.
        await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(29), TimeSpan.FromSeconds(1));
        Assert.False(waiter.IsCompleted);

        var moved = await clock.AdvanceUntilAsync(() => Task.FromResult(waiter.IsCompleted), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.InRange(moved, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
        var lease = await waiter;
        Assert.True(lease.Granted);
        Assert.Equal([ghost.LeaseId!], await pool.Renew([ghost.LeaseId!, lease.LeaseId!]));

        // A session's connection is never handed to the next session (the upstream may keep its state): the waiter
        // got a fresh one, and the ghost's was closed.
        Assert.NotEqual(ghost.Connection, lease.Connection);
        Assert.DoesNotContain(ghost.Connection, (await pool.GetConnections()).Select(c => c.Connection));
    }

    [Fact]
    public async Task SessionAgent_Closed_LeaseReturnsAtOnce_RenewedLeaseIsKept()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartOneSessionConnectionAsync(clock);
        var pool = await host.UsablePoolAsync(1);
        var agent = await OpenAgentAsync(host, "t/session");
        Assert.Contains("result", await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        Assert.Equal(1, (await pool.GetInfo()).LeasesInUse);

        // The agent renews its session lease, so it outlives several lease timeouts.
        for (var i = 0; i < 12; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(20);
        }

        Assert.Equal(1, (await pool.GetInfo()).LeasesInUse);
        Assert.Contains("result", await agent.Send("""{"jsonrpc":"2.0","id":2,"method":"echo"}"""));

        await agent.Close("t/session");
        Assert.Equal(0, (await pool.GetInfo()).LeasesInUse);
    }

    [Fact]
    public async Task Lease_HeldPastLongLeaseWarning_LoggedOnceAndKept()
    {
        var clock = new FakeTimeProvider();
        var logs = new CapturedLog();
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "1", ["PreWarming"] = "false",
                ["LeaseTimeout"] = "00:00:30", ["LongLeaseWarning"] = "00:02:00",
            },
            clock,
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var pool = await host.UsablePoolAsync(1);
        var lease = await pool.Acquire(new LeaseRequest("t/long-holder"));

        for (var i = 0; i < 18; i++)
        {
            Assert.Empty(await pool.Renew([lease.LeaseId!]));
            await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1));
        }

        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Message.Contains("suspiciously long", StringComparison.Ordinal)));
        Assert.Single(logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("t/long-holder", StringComparison.Ordinal) && e.Message.Contains("suspiciously long", StringComparison.Ordinal));
        Assert.Equal(1, (await pool.GetInfo()).LeasesInUse);
    }

    [Fact]
    public async Task Deactivate_SiloStopsWhileAConnectionIsOpening_WaitsOneSecondAndNamesTheUnfinishedOpen()
    {
        // A pool's deactivation waits a while for its background work; when that runs out, the warning says what was left
        // (a whole-cluster stop was held by such work, and nothing said which).
        var logs = new CapturedLog();
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?> { ["MinConnections"] = "1", ["MaxConnections"] = "1", ["PreWarming"] = "false" },
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        host.Upstream.Faults.HandshakeDelay = TimeSpan.FromSeconds(3);
        Assert.Equal(0, (await host.Grains.GetGrain<IPoolGrain>("main").GetInfo()).UsableConnections); // activated: opening main/1

        await host.Silo.StopAsync();

        var warning = Assert.Single(logs.Entries, e => e.Message.Contains("background work unfinished", StringComparison.Ordinal));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("Pool main: deactivated (ShuttingDown)", warning.Message);
        Assert.Contains("after 00:00:01: open main/1 (", warning.Message); // and for how long it had run, which a busy machine stretches
    }

    /// <summary>A session-mode pool of exactly one connection, with a 30 s lease timeout, on <paramref name="clock"/>.</summary>
    private static Task<PoolTestHost> StartOneSessionConnectionAsync(FakeTimeProvider clock)
        => PoolTestHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "1",
                ["LeaseTimeout"] = "00:00:30", ["AcquireTimeout"] = "00:05:00", ["PreWarming"] = "false",
            },
            clock);
}
