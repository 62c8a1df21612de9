using System.Diagnostics;
using System.Text.Json;
using Conduit.Grains;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Pools;

public sealed class ConnectionGrainTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static async Task<IAgentGrain> OpenAgentAsync(PoolTestHost host, string key)
    {
        var agent = host.Grains.GetGrain<IAgentGrain>(key);
        await agent.Open(new AgentOpenRequest("main", "t", key), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        return agent;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string because, int attempts = 500)
    {
        for (var i = 0; i < attempts; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail(because);
    }

    private static int ErrorCode(string? response)
    {
        using var doc = JsonDocument.Parse(response!);
        return doc.RootElement.TryGetProperty("error", out var error) ? error.GetProperty("code").GetInt32() : 0;
    }

    [Fact]
    public async Task UpstreamKilledMidRequest_InFlightGet32004WithinASecond_PoolReconnects()
    {
        var logs = new CapturedLog();
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?> { ["MinConnections"] = "2", ["MaxConnections"] = "2" },
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var agents = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => OpenAgentAsync(host, $"t/kill-{i}")));
        host.Upstream.Faults.ReplyDelay = TimeSpan.FromSeconds(20);
        var calls = agents.Select((a, i) => a.Send($$"""{"jsonrpc":"2.0","id":"k{{i}}","method":"echo"}""")).ToList();
        await Eventually.TrueAsync(() => host.Upstream.CountOf("echo") == 8);

        var killedAt = Stopwatch.GetTimestamp();
        host.Upstream.AbortAll();
        var replies = await Task.WhenAll(calls).WaitAsync(Wait);

        Assert.True(Stopwatch.GetElapsedTime(killedAt) < TimeSpan.FromSeconds(1), $"took {Stopwatch.GetElapsedTime(killedAt)}");
        for (var i = 0; i < replies.Length; i++)
        {
            using var doc = JsonDocument.Parse(replies[i]!);
            Assert.Equal($"k{i}", doc.RootElement.GetProperty("id").GetString());
            Assert.Equal(JsonRpcErrorCodes.UpstreamFailed, doc.RootElement.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Equal("main", doc.RootElement.GetProperty("error").GetProperty("data").GetProperty("pool").GetString());
        }

        // The connections reconnect by themselves (backoff from 100 ms) and serve again.
        host.Upstream.Faults.ReplyDelay = TimeSpan.Zero;
        await Eventually.TrueAsync(() => host.Upstream.AcceptedSockets >= 4 && host.Upstream.OpenSockets == 2, Wait);
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 2, "connections not usable again");
        foreach (var (agent, i) in agents.Select((a, i) => (a, i)))
        {
            Assert.Equal(0, ErrorCode(await agent.Send($$"""{"jsonrpc":"2.0","id":"again{{i}}","method":"echo"}""")));
        }

        // A connection's routine opening is logged at Debug; its coming back after the loss (a warning) is news.
        Assert.Equal(2, logs.Entries.Count(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("lost its socket", StringComparison.Ordinal)));
        Assert.Equal(2, logs.Entries.Count(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Information && e.Message.EndsWith(" is open", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RepeatedConnectFailures_OpenPoolBreaker32003_HalfOpensAfterBreak()
    {
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["MinConnections"] = "1", ["MaxConnections"] = "1", ["PreWarming"] = "false",
                ["BreakerMinimumThroughput"] = "3", ["BreakerFailureRatio"] = "0.5", ["BreakDuration"] = "00:01:00",
            },
            clock);
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        var agent = await OpenAgentAsync(host, "t/breaker");
        Assert.Equal(0, ErrorCode(await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}""")));

        host.Upstream.Faults.RefuseConnections = true;
        host.Upstream.AbortAll();
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 0, "the pool did not see the connection fail");

        // Each clock step lets the connection's reconnect timer fire; each refused attempt reaches the pool breaker.
        for (var i = 0; i < 200 && (await pool.GetInfo()).Breaker != "Open"; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.Equal("Open", (await pool.GetInfo()).Breaker);
        Assert.True(host.Upstream.RefusedConnections >= 2);
        using (var reply = JsonDocument.Parse((await agent.Send("""{"jsonrpc":"2.0","id":2,"method":"echo"}"""))!))
        {
            var error = reply.RootElement.GetProperty("error");
            Assert.Equal(JsonRpcErrorCodes.CircuitOpen, error.GetProperty("code").GetInt32());
            Assert.InRange(error.GetProperty("data").GetProperty("retryAfterMs").GetInt64(), 1, 60_000);
        }

        // After the break the next attempt is the half-open probe; the upstream is back, so it closes.
        host.Upstream.Faults.RefuseConnections = false;
        for (var i = 0; i < 300 && (await pool.GetInfo()).Breaker != "Closed"; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.Equal("Closed", (await pool.GetInfo()).Breaker);
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 1, "no connection after the breaker closed");
        Assert.Equal(0, ErrorCode(await agent.Send("""{"jsonrpc":"2.0","id":3,"method":"echo"}""")));
    }

    [Fact]
    public async Task SlowUpstream_DegradedThenUnhealthy_ConnectionRecycled()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "2", ["PreWarming"] = "false",
            // Latencies far apart: a slow moment of the test machine adds to every probe's, and must not turn a degraded
            // sample into an unhealthy one.
            ["HealthCheckMethod"] = "ping", ["HealthCheckInterval"] = "00:00:00.100", ["HealthCheckTimeout"] = "00:00:03",
            ["HealthyLatency"] = "00:00:00.150", ["DegradedLatency"] = "00:00:01", ["FailureThreshold"] = "2",
        });
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 1, "no connection");
        var first = (await pool.GetConnections()).Single().Connection;

        host.Upstream.Faults.ProbeDelay = TimeSpan.FromMilliseconds(400);
        await UntilAsync(async () => (await pool.GetConnections()).Any(c => c.Connection == first && c.Health == ConnectionHealth.Degraded), "not degraded", 1000);
        Assert.Equal(1, host.Upstream.AcceptedSockets);

        host.Upstream.Faults.ProbeDelay = TimeSpan.FromMilliseconds(1500);
        await UntilAsync(async () => (await pool.GetConnections()).All(c => c.Connection != first), "the unhealthy connection was not recycled", 1000);
        host.Upstream.Faults.ProbeDelay = TimeSpan.Zero;

        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 1, "no replacement connection");
        Assert.True(host.Upstream.AcceptedSockets >= 2);
        var agent = await OpenAgentAsync(host, "t/after-recycle");
        Assert.Equal(0, ErrorCode(await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}""")));
        Assert.Equal(PoolRecycleCounts.None with { Unhealthy = 1 }, (await pool.GetInfo()).Recycled);
    }

    [Fact]
    public async Task Drain_WhileConnecting_StaysClosed_AndTheNewSocketIsClosedToo()
    {
        // A drain that arrives during the handshake must win: the connect that completes after it may not bring the
        // connection back to Ready (the pool has already forgotten it and would take a Ready report for a new one).
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "1", ["PreWarming"] = "false" });
        await Eventually.TrueAsync(() => host.Upstream.OpenSockets == 1, Wait);
        host.Upstream.Faults.HandshakeDelay = TimeSpan.FromSeconds(2); // the drain below must reach the grain before it ends
        var connection = host.Grains.GetGrain<IConnectionGrain>("main/connecting-then-drained");
        var opening = connection.Open();
        await Eventually.TrueAsync(() => host.Upstream.HandshakeAttempts >= 2, Wait);

        await connection.Drain();
        var report = await opening.WaitAsync(Wait);

        Assert.Equal(ConnectionState.Closed, report.State);
        await Eventually.TrueAsync(() => host.Upstream.OpenSockets == 1, Wait); // only the pool's own connection is left
    }

    [Fact]
    public async Task Rotation_AfterMaxRequests_DrainsWithoutCuttingInFlight()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "2", ["MaxRequestsPerConnection"] = "5", ["PreWarming"] = "false",
        });
        var agent = await OpenAgentAsync(host, "t/rotate");
        var slow = agent.Send("""{"jsonrpc":"2.0","id":"slow","method":"sleep","params":{"ms":600}}""");
        await Eventually.TrueAsync(() => host.Upstream.CountOf("sleep") == 1);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(0, ErrorCode(await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo"}""")));
        }

        // The first connection served its 5 requests and was told to drain; the slow one still completes.
        using var slowReply = JsonDocument.Parse((await slow.WaitAsync(Wait))!);
        Assert.Equal("slow", slowReply.RootElement.GetProperty("id").GetString());
        Assert.True(slowReply.RootElement.TryGetProperty("result", out _), slowReply.RootElement.ToString());
        await Eventually.TrueAsync(() => host.Upstream.AcceptedSockets >= 2, Wait);
        for (var i = 10; i < 20; i++)
        {
            Assert.Equal(0, ErrorCode(await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo"}""")));
        }

        // One or two sockets once the rotations settle: none is left behind. (Right after a rotation the drained socket can
        // be closed before its replacement is open, so the count is not read at one instant.)
        await Eventually.TrueAsync(() => host.Upstream.OpenSockets is >= 1 and <= 2, Wait, "the upstream should have one or two sockets open once the rotations settle");
    }

    [Fact]
    public async Task Rotation_ReplacementOpensBeforeTheOldConnectionDrains_NoRequestWaitsForAHandshake()
    {
        // An upstream whose handshake takes 600 ms (a remote one over TLS may take that). A connection rotates after 5
        // requests: drained first and replaced after, every fifth request of a busy agent would wait for a handshake.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "2", ["MaxRequestsPerConnection"] = "5", ["PreWarming"] = "false",
        });
        var pool = await host.UsablePoolAsync(1);
        host.Upstream.Faults.HandshakeDelay = TimeSpan.FromMilliseconds(600);
        var agent = await OpenAgentAsync(host, "t/rotating");

        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 60; i++)
        {
            var started = Stopwatch.GetTimestamp();
            Assert.Equal(0, ErrorCode(await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo"}""")));
            slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, Stopwatch.GetElapsedTime(started).Ticks));
            await Task.Delay(50); // a client that sends now and then: the replacement has time to open meanwhile
        }

        var rotations = (await pool.GetInfo()).Recycled!.Rotation;
        Assert.True(rotations >= 2, $"only {rotations} rotations");
        Assert.True(slowest < TimeSpan.FromMilliseconds(400), $"a request waited {slowest.TotalMilliseconds:F0} ms: for a replacement's handshake");
    }

    [Fact]
    public async Task Rotation_DueWhileThePreviousConnectionStillDrains_ServesOnUntilItsReplacementIsUp()
    {
        // MaxConnections 2: a connection that comes due while the one before it is still draining a long request has no
        // room for a replacement yet. It must serve on until that drain ends and a replacement is open, not drain at once
        // and leave its agents waiting for the drain and a handshake (seen once as a 556 ms wait in the test above).
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "1", ["MaxConnections"] = "2", ["MaxRequestsPerConnection"] = "5", ["PreWarming"] = "false",
        });
        var pool = await host.UsablePoolAsync(1);
        var slow = await OpenAgentAsync(host, "t/slow");
        var agent = await OpenAgentAsync(host, "t/busy");

        // The first connection takes a 3 s request and four more: due, replaced, and draining while the long one runs.
        var sleeping = slow.Send("""{"jsonrpc":"2.0","id":"long","method":"sleep","params":{"ms":3000}}""");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(0, ErrorCode(await agent.Send($$"""{"jsonrpc":"2.0","id":"first{{i}}","method":"echo"}""")));
        }

        await UntilAsync(
            async () => (await pool.GetInfo()).Recycled!.Rotation == 1 && (await pool.GetConnections()).Count == 2,
            "the first connection should drain beside its replacement");

        // The second connection comes due (5 requests) while the first still drains; handshakes now take 600 ms.
        host.Upstream.Faults.HandshakeDelay = TimeSpan.FromMilliseconds(600);
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 15; i++)
        {
            var started = Stopwatch.GetTimestamp();
            Assert.Equal(0, ErrorCode(await agent.Send($$"""{"jsonrpc":"2.0","id":"second{{i}}","method":"echo"}""")));
            slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, Stopwatch.GetElapsedTime(started).Ticks));
            await Task.Delay(50);
        }

        Assert.True(slowest < TimeSpan.FromMilliseconds(400), $"a request waited {slowest.TotalMilliseconds:F0} ms for a drain and a handshake");
        Assert.Equal(0, ErrorCode(await sleeping)); // the drain never cut the long request
        await UntilAsync(async () => (await pool.GetInfo()).Recycled!.Rotation >= 2, "the second connection should drain once its replacement is up");
    }

    [Fact]
    public async Task RotationChurn_ManyBusyAgents_EveryRequestAnswered_NoneGetsARecyclingConnectionsError()
    {
        // Connections rotate after every other request while 100 agents keep sending: leases are revoked all the time,
        // and an agent's next request finds its connection draining ("not sent") and must move to another one rather
        // than answer the client with -32004.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "2", ["MaxConnections"] = "4", ["MaxRequestsPerConnection"] = "2", ["PreWarming"] = "false",
        });
        var agents = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => OpenAgentAsync(host, $"t/churn-{i}")));

        var errors = await Task.WhenAll(agents.Select(async (agent, a) =>
        {
            var failed = new List<string>();
            for (var i = 0; i < 25; i++)
            {
                var reply = await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo","params":[{{a}}]}""");
                if (ErrorCode(reply) != 0)
                {
                    failed.Add(reply!);
                }
            }

            return failed;
        }));

        Assert.Empty(errors.SelectMany(e => e));
        Assert.True(host.Upstream.AcceptedSockets > 20, $"only {host.Upstream.AcceptedSockets} upstream sockets: the connections did not rotate");

        // Retired connections go (with the default collection age of 15 minutes, nothing else would take them): a
        // connection grain that a late call activates again after it closed keeps nothing and must not stay either.
        var catalog = host.Silo.Services.GetRequiredService<Conduit.Runtime.Activations.SiloRuntime>().Catalog;
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        await Eventually.TrueAsync(
            async () => catalog.Activations.Count(a => a.GrainId.Type == "connection") <= (await pool.GetConnections()).Count,
            TimeSpan.FromSeconds(5),
            "more connection activations than the pool has connections");
    }

    [Fact]
    public async Task RetiredConnections_ManyInARow_AreNotFailedTries_RequestWaitsForAFreshConnection()
    {
        // Under heavy churn a fresh lease can land on a connection that is retired before the request reaches it, several
        // times in a row. Here every connection drains behind the pool's back while a slow request keeps it open, so an
        // agent's lease finds one retired connection after another: that is no upstream failure (-32004), and the request
        // is served once a replacement opens.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["MinConnections"] = "3", ["MaxConnections"] = "3", ["PreWarming"] = "false",
            ["AcquireTimeout"] = "00:00:10",
        });
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        await UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 3, "the pool did not open 3 connections");
        var keys = (await pool.GetConnections()).Select(c => c.Connection).ToList();
        var slow = new List<Task<string?>>();
        for (var i = 0; i < 30 && !await AllBusyAsync(); i++)
        {
            var sleeper = await OpenAgentAsync(host, $"t/sleeper-{i}");
            slow.Add(sleeper.Send($$$"""{"jsonrpc":"2.0","id":{{{i}}},"method":"sleep","params":{"ms":1500}}"""));
            await Eventually.TrueAsync(() => host.Upstream.CountOf("sleep") == slow.Count);
        }

        Assert.True(await AllBusyAsync(), "the slow requests did not spread over the 3 connections");
        await Task.WhenAll(keys.Select(k => host.Grains.GetGrain<IConnectionGrain>(k).Drain()));

        var agent = await OpenAgentAsync(host, "t/after-drain");
        var reply = await agent.Send("""{"jsonrpc":"2.0","id":"late","method":"echo","params":[7]}""").WaitAsync(Wait);

        using var doc = JsonDocument.Parse(reply!);
        Assert.True(doc.RootElement.TryGetProperty("result", out var result), doc.RootElement.ToString());
        Assert.Equal(7, result[0].GetInt32());
        Assert.True(host.Upstream.AcceptedSockets > 3, $"{host.Upstream.AcceptedSockets} upstream sockets: the answer cannot have come from a fresh connection");
        foreach (var answer in await Task.WhenAll(slow).WaitAsync(Wait))
        {
            Assert.Equal(0, ErrorCode(answer)); // draining never cut them
        }

        async Task<bool> AllBusyAsync() =>
            (await Task.WhenAll(keys.Select(k => host.Grains.GetGrain<IConnectionGrain>(k).GetReport()))).All(r => r.InFlight > 0);
    }

    [Fact]
    public async Task Shutdown_WithAgentsHoldingLeases_LogsNoWarningOrError()
    {
        // Every agent gives its lease back as the silo stops, and the pool, on the same silo, is gone by then: expected,
        // so it is not worth a warning per agent (there were one per agent, and an error per connection that drained).
        var logs = new CapturedLog();
        var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?> { ["MinConnections"] = "2", ["MaxConnections"] = "2", ["LeaseIdleRelease"] = "00:00:20" },
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        try
        {
            var agents = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => OpenAgentAsync(host, $"t/stop-{i}")));
            foreach (var (agent, i) in agents.Select((a, i) => (a, i)))
            {
                Assert.Equal(0, ErrorCode(await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo"}""")));
            }

            Assert.Equal(20, (await host.Grains.GetGrain<IPoolGrain>("main").GetInfo()).LeasesInUse);
            await host.Silo.StopAsync().WaitAsync(Wait);
        }
        finally
        {
            await host.DisposeAsync();
        }

        Assert.DoesNotContain(logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Contains(logs.Entries, e => e.Message.Contains("Deactivating", StringComparison.Ordinal)); // it did log, and did shut down
    }

    [Fact]
    public async Task Ttl_Expired_DrainsWithoutCuttingInFlight()
    {
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["MinConnections"] = "1", ["MaxConnections"] = "2", ["PreWarming"] = "false", ["ConnectionTtl"] = "00:01:00",
                ["RequestTimeout"] = "00:30:00", ["LeaseTimeout"] = "00:30:00", ["LeaseIdleRelease"] = "00:20:00",
            },
            clock);
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        var agent = await OpenAgentAsync(host, "t/ttl");
        Assert.Equal(0, ErrorCode(await agent.Send("""{"jsonrpc":"2.0","id":0,"method":"echo"}""")));
        var first = (await pool.GetConnections()).Single().Connection;

        // The TTL is 54-66 s (10 % jitter). The request goes out at 50 s and is answered 2 s later in real time,
        // while the clock steps past 70 s in about 0.4 s: the TTL falls due while it is in flight.
        await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(1));
        Assert.Equal(first, (await pool.GetConnections()).Single().Connection);
        host.Upstream.Faults.ReplyDelay = TimeSpan.FromSeconds(2);
        var inFlight = agent.Send("""{"jsonrpc":"2.0","id":"during-ttl","method":"echo","params":[1]}""");
        await Eventually.TrueAsync(() => host.Upstream.CountOf("echo") == 2);
        await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1));

        await UntilAsync(async () => (await pool.GetConnections()).Any(c => c.Connection != first), "no replacement after the TTL");
        using var reply = JsonDocument.Parse((await inFlight.WaitAsync(Wait))!);
        Assert.Equal("during-ttl", reply.RootElement.GetProperty("id").GetString());
        Assert.Equal(1, reply.RootElement.GetProperty("result")[0].GetInt32());

        host.Upstream.Faults.ReplyDelay = TimeSpan.Zero;
        await UntilAsync(async () => (await pool.GetConnections()).All(c => c.Connection != first), "the expired connection did not close");
        Assert.Equal(0, ErrorCode(await agent.Send("""{"jsonrpc":"2.0","id":9,"method":"echo"}""")));
        Assert.Equal(2, host.Upstream.AcceptedSockets);
        Assert.Equal(PoolRecycleCounts.None with { Ttl = 1 }, (await pool.GetInfo()).Recycled);
    }
}
