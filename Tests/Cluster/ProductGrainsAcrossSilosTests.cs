using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Conduit.Grains;
using Conduit.Runtime;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Membership;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Conduit.Tests.Cluster;

/// <summary>
/// Issue 3 with the product's own grains: a stand-alone gateway (cluster client) in front of two silos on a real
/// redis-server that host the agent, pool, connection and quota grains, with pools pointed at a real upstream server.
/// </summary>
public sealed class ProductGrainsAcrossSilosTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    // Pools open their connections on demand (MinConnections 0), so connection grains are placed by hash over both
    // silos; among several pools one surely has its first connection hashed away from its pool grain (1 - 2^-16).
    private const int PoolCount = 16;
    private const int AgentsPerSilo = 8;

    // Requests must be answered again within the death timeout plus this margin (re-activation, reconnecting upstream).
    private static readonly TimeSpan RecoveryBound = TestCluster.DeathTimeout + TimeSpan.FromSeconds(5);

    [Fact]
    public async Task JsonRpc_AgentsPoolAndConnectionsOnDifferentSilos_AnsweredAndAgainSoonAfterASiloIsKilled_Issue3()
    {
        await using var setup = await LoadSetup.StartAsync(redis.Server);
        var (cluster, grains, agents) = (setup.Cluster, setup.Grains, setup.Agents);
        var (pool, poolHost) = await ChooseSplitPoolAsync(cluster, grains, setup.Active);
        var remoteConnection = pool + "/1";

        // Many agents, each with several requests in flight.
        var clients = await setup.ConnectAsync(_ => pool);
        var answers = await Task.WhenAll(clients.Select((c, i) => RoundTripAsync(c, agents[i], requests: 5))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(answers, a => Assert.Equal(5, a));

        // The activations really are spread: agents on both silos, the pool on one, a connection in use on the other.
        var agentsPerSilo = cluster.Silos.Select(s => s.CountActivations("agent")).ToList();
        output.WriteLine($"pool {pool} on {poolHost.Address}; connection {remoteConnection} elsewhere; agents per silo {string.Join(" / ", agentsPerSilo)}");
        Assert.Equal(agents.Count, agentsPerSilo.Sum());
        Assert.Equal(2 * AgentsPerSilo, agents.Count);
        Assert.All(agentsPerSilo, n => Assert.True(n > 0, $"agents per silo: {string.Join(" / ", agentsPerSilo)}"));
        Assert.Equal(1, cluster.Silos.Count(s => s.Holds(new GrainId("pool", pool))));
        Assert.False(poolHost.Holds(new GrainId("connection", remoteConnection)));
        Assert.True((await grains.GetGrain<IConnectionGrain>(remoteConnection).GetReport()).Requests > 0, $"{remoteConnection} served no request");

        // Kill the pool's silo abruptly: its agents, the pool and its connections there must come back on the other.
        var victimAgents = agents.Where(a => poolHost.Holds(new GrainId("agent", "load/" + a))).ToList();
        Assert.NotEmpty(victimAgents);
        var killedAt = Stopwatch.GetTimestamp();
        await poolHost.KillAsync();

        var recovered = await Task.WhenAll(clients.Select((c, i) => UntilAnsweredAsync(c, agents[i], killedAt))).WaitAsync(TimeSpan.FromSeconds(30));
        var slowest = recovered.Max();
        output.WriteLine($"every agent answered again within {slowest.TotalMilliseconds:F0} ms of the kill");
        Assert.True(slowest < RecoveryBound, $"an agent answered only {slowest} after the kill (death timeout {TestCluster.DeathTimeout})");
        var survivor = cluster.RunningSilos.Single();
        Assert.Equal(agents.Count, survivor.CountActivations("agent"));
        Assert.True(survivor.Holds(new GrainId("pool", pool)));
    }

    [Fact]
    public async Task JsonRpc_PoolsSiloStopsGracefullyUnderLoad_StopIsPrompt_EveryAgentAnsweredAfter()
    {
        await using var setup = await LoadSetup.StartAsync(redis.Server);
        var agents = setup.Agents;
        var (pool, poolHost) = await ChooseSplitPoolAsync(setup.Cluster, setup.Grains, setup.Active);
        var clients = await setup.ConnectAsync(_ => pool);
        Assert.All(await Task.WhenAll(clients.Select((c, i) => RoundTripAsync(c, agents[i], requests: 2))), a => Assert.Equal(2, a));
        var moving = agents.Count(a => poolHost.Holds(new GrainId("agent", "load/" + a)));

        // Every client keeps one request in flight while the pool's silo stops gracefully.
        var (stopTook, sent, errors) = await UnderLoadAsync(clients, agents, poolHost.StopAsync);
        output.WriteLine($"stop took {stopTook.TotalMilliseconds:F0} ms; {sent} requests during the load; errors: {Summary(errors)}");

        Assert.True(stopTook < TimeSpan.FromSeconds(5), $"the graceful stop took {stopTook}; the silos logged:{Environment.NewLine}{setup.Cluster.Log}");
        var afterStop = Stopwatch.GetTimestamp();
        var recovered = await Task.WhenAll(clients.Select((c, i) => UntilAnsweredAsync(c, agents[i], afterStop))).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(recovered, r => Assert.True(r < TimeSpan.FromSeconds(3), $"answered again only {r} after the stop")); // at once, give or take a slow machine
        Assert.Empty(errors);

        // The gateway bound each moved agent again: counted, and logged once per 10 s rather than once per agent.
        var metrics = setup.Gateway.App.Services.GetRequiredService<Conduit.Gateway.Metrics.GatewayMetrics>();
        Assert.True(moving >= 4, $"only {moving} agents lived on the stopped silo");
        Assert.True(Volatile.Read(ref metrics.AgentsRebound) >= moving, $"{metrics.AgentsRebound} agents bound again, {moving} moved");
        var lines = setup.Cluster.Log.Lines.Count(l => l.Contains("was activated again without its binding", StringComparison.Ordinal));
        Assert.True(lines is >= 1 and <= 2, $"{lines} lines about agents bound again for {moving} moved agents");
    }

    [Fact]
    public async Task JsonRpc_EverySiloStopsAtOnceUnderLoad_StopsPromptly()
    {
        // Calls that meet a stopping silo look for the grain on the others, which are stopping too: that must end at once
        // ("no active silo"), not wait for grains to leave silos that are all leaving.
        await using var setup = await LoadSetup.StartAsync(redis.Server);
        var agents = setup.Agents;
        var clients = await setup.ConnectAsync(i => "p" + (i % 4));
        Assert.All(await Task.WhenAll(clients.Select((c, i) => RoundTripAsync(c, agents[i], requests: 2))), a => Assert.Equal(2, a));
        var (stopTook, _, _) = await UnderLoadAsync(clients, agents, () => Task.WhenAll(setup.Cluster.Silos.Select(s => s.StopAsync())), clusterGoes: true);
        output.WriteLine($"both silos stopped in {stopTook.TotalMilliseconds:F0} ms");
        Assert.True(stopTook < TimeSpan.FromSeconds(5), $"stopping both silos took {stopTook}; the silos logged:{Environment.NewLine}{setup.Cluster.Log}");
        // The clients went on sending after the cluster had gone: the gateway's calls fail, without a warning each (the
        // gateway placed calls on the silos it last knew active, each call trying a silo that was gone).
        var unreachable = setup.Cluster.Log.Lines.Count(l => l.Contains("is unreachable", StringComparison.Ordinal));
        Assert.True(unreachable <= 6, $"'unreachable' logged {unreachable} times (2 silos and a gateway, 2 silos each could be unreachable to):{Environment.NewLine}{setup.Cluster.Log}");
    }

    [Fact]
    public async Task SessionMode_ConnectionOnOtherSiloThanAgent_UpstreamNotificationsReachTheClient_Issue3()
    {
        await using var session = await SessionSetup.StartAsync(redis.Server);
        var client = session.Client;

        await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"notify_me","params":{"count":3}}""");
        var received = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            received.Add((await client.ReceiveAsync())!);
        }

        // The answer comes back through the agent's silo and the notifications straight from the connection's, yet the
        // client gets them in the upstream's order.
        Assert.Contains("\"result\":\"ok\"", received[0]);
        Assert.Equal(["0", "1", "2"], received.Skip(1).Select(r => JsonDocument.Parse(r).RootElement.GetProperty("params").GetProperty("seq").ToString()));
        Assert.NotEqual(session.AgentHost.Address, session.ConnectionHost.Address);
        Assert.Equal("mcp", client.Socket.SubProtocol);
    }

    [Theory]
    [InlineData("connection")]
    [InlineData("agent")]
    public async Task SessionMode_SiloHoldingTheSessionKilled_ClientGetsMinus32004ThenClose1011_NeverCarriesOnSilently(string killed)
    {
        await using var session = await SessionSetup.StartAsync(redis.Server);
        var client = session.Client;
        await session.AssertEchoAnsweredAsync();
        var (agentHost, connectionHost) = (session.AgentHost, session.ConnectionHost);
        Assert.NotEqual(agentHost.Address, connectionHost.Address);

        // The silo of the session's upstream connection dies (the agent finds its connection unreachable), or the
        // agent's own silo dies (the agent comes back elsewhere without its lease): either way the session is gone.
        var killedAt = Stopwatch.GetTimestamp();
        await (killed == "connection" ? connectionHost : agentHost).KillAsync();

        var answers = new List<string>();
        for (var attempt = 0; ; attempt++)
        {
            Assert.True(Stopwatch.GetElapsedTime(killedAt) < RecoveryBound, $"the socket is still open {RecoveryBound} after the kill; answers: {string.Join(" | ", answers)}");
            await client.SendAsync($$"""{"jsonrpc":"2.0","id":"after-{{attempt}}","method":"echo","params":[1]}""");
            var answer = await client.ReceiveAsync(TestCluster.ResponseTimeout + TimeSpan.FromSeconds(1));
            if (answer is null)
            {
                break;
            }

            answers.Add(answer);
            await Task.Delay(50);
        }

        output.WriteLine($"closed {Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds:F0} ms after the kill ({client.Socket.CloseStatusDescription}); answers: {string.Join(" | ", answers)}");
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.InternalServerError, client.Socket.CloseStatus);
        Assert.Contains("session", client.Socket.CloseStatusDescription);
        Assert.NotEmpty(answers);
        Assert.All(answers, a => Assert.Contains("\"code\":-32004", a));
        Assert.DoesNotContain(answers, a => a.Contains("\"result\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("agent")]
    [InlineData("connection")]
    public async Task SessionMode_SiloStopsGracefully_ClientClosedWith1011AtOnce_WithoutSendingAnything(string stopped)
    {
        await using var session = await SessionSetup.StartAsync(redis.Server);
        var client = session.Client;
        await session.AssertEchoAnsweredAsync();
        var host = stopped == "agent" ? session.AgentHost : session.ConnectionHost;
        Assert.NotSame(session.AgentHost, session.ConnectionHost);

        // A subscribed client sends nothing for a while: it must not wait for notifications that cannot come.
        var stoppedAt = Stopwatch.GetTimestamp();
        await host.StopAsync();

        Assert.Null(await client.ReceiveAsync(TimeSpan.FromSeconds(10)));
        output.WriteLine($"closed {Stopwatch.GetElapsedTime(stoppedAt).TotalMilliseconds:F0} ms after the stop began: {client.Socket.CloseStatus} {client.Socket.CloseStatusDescription}");
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.InternalServerError, client.Socket.CloseStatus);
        Assert.Contains("session", client.Socket.CloseStatusDescription);
    }

    [Fact]
    public async Task SessionMode_PoolsSiloStops_PoolActivatedAgainNeverHandsALiveSessionToAnotherAgent_ItsHolderIsToldAndItIsRecycled()
    {
        // The pool's books are in memory: when the silo holding the pool grain goes, the pool is activated again on the
        // other silo and adopts the connections there, among them one that carries a live session it did not grant. The
        // agent renews its lease every LeaseTimeout / 3 (4 s): its first renewal after the move ends its session, so the
        // steps up to its notifications must come before that.
        await using var upstream = await UpstreamServer.StartAsync();
        var settings = PoolSettings(upstream.Url, "s", ("Mode", "Session"), ("LeaseTimeout", "00:00:12"));
        await using var cluster = await TestCluster.StartAsync(2, redis.Server, configure: ClusterGateway.ProductGrains, settings: settings);
        await using var gateway = await ClusterGateway.StartAsync(cluster);
        var active = await cluster.WhenAllActiveAsync();
        var grains = cluster.Silos[0].GrainFactory;

        // A pool whose grain is on one silo while its first connection, and both agents, are on the other: the stop
        // moves the pool and nothing else.
        var (pool, poolHost) = await ChooseSplitPoolAsync(cluster, grains, active, "s");
        var kept = active.Single(a => a != poolHost.Address);
        var agents = AgentsOn(kept, active, 2);
        await using var first = await gateway.ConnectAsync(pool, agents[0]);
        await first.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}""");
        Assert.Contains("\"result\"", await first.ReceiveAsync());
        Assert.Equal(kept, cluster.FindHost(new GrainId("connection", pool + "/1"))!.Address);

        await poolHost.StopAsync();
        Assert.Single(cluster.RunningSilos);

        // A second agent gets a connection of its own, and none of the first session's upstream messages.
        await using var second = await gateway.ConnectAsync(pool, agents[1]);
        await second.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo","params":[2]}""");
        Assert.Contains("\"result\"", await second.ReceiveAsync());
        Assert.Equal(kept, cluster.FindHost(new GrainId("pool", pool))!.Address);
        await first.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"notify_me","params":{"count":2}}""");
        var toFirst = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            toFirst.Add((await first.ReceiveAsync())!);
        }

        Assert.Contains("\"result\":\"ok\"", toFirst[0]);
        Assert.All(toFirst.Skip(1), m => Assert.Contains("\"seq\"", m));
        Assert.Equal(2, upstream.AcceptedSockets);

        // The first agent learns at its next renewal that the pool does not know its lease: its client is closed with
        // 1011, and the connection that carried the session is recycled, not handed on.
        Assert.Null(await first.ReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.InternalServerError, first.Socket.CloseStatus);
        var poolGrain = cluster.RunningSilos.Single().GrainFactory.GetGrain<IPoolGrain>(pool);
        // At once, as the agent detaches (its connection reports it), not LeaseTimeout (12 s) after the move.
        await Eventually.TrueAsync(
            async () => (await poolGrain.GetInfo()).LeasesInUse == 1 && upstream.OpenSockets == 1,
            TimeSpan.FromSeconds(6),
            "the old session's connection was not recycled: not one lease (the second agent's) and one upstream socket");

        // The second client's next message is the answer to its next request: none of the first session's came before it.
        await second.SendAsync("""{"jsonrpc":"2.0","id":2,"method":"echo","params":[3]}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":2,"result":[3]}""", await second.ReceiveAsync());
    }

    /// <summary>
    /// Two silos with <see cref="PoolCount"/> request-mode pools, a stand-alone gateway, and <see cref="AgentsPerSilo"/>
    /// agent ids placed on each silo; the client sockets it connects are closed with it.
    /// </summary>
    [Theory]
    [InlineData(3)] // room for a replacement: the due connection serves on while the replacement's open fails
    [InlineData(2)] // at MaxConnections: a due connection would drain before its replacement opens, unless the pool knows
    public async Task RedisOutage_PoolKeepsServingOnItsOpenConnections_AndOpensNewOnesOnceRedisIsBack(int maxConnections)
    {
        // Connections rotate every 5 requests. During a Redis outage a replacement cannot be activated (the grain directory
        // is unavailable): the pool must not retire the connection that still serves for a replacement that cannot come,
        // and once Redis is back (empty) it must open what it could not, and rotate again.
        await using var server = await RedisServer.StartNewAsync();
        await using var upstream = await UpstreamServer.StartAsync();
        var settings = PoolSettings(upstream.Url, more: [("MinConnections", "2"), ("MaxConnections", $"{maxConnections}"), ("MaxRequestsPerConnection", "5")]);
        await using var cluster = await TestCluster.StartAsync(1, server, configure: ClusterGateway.ProductGrains, settings: settings);
        var grains = cluster.Silos[0].GrainFactory;
        var pool = grains.GetGrain<IPoolGrain>("p0");
        Assert.True(await Retry.UntilAsync(async () => (await pool.GetInfo()).UsableConnections == 2, TimeSpan.FromSeconds(10)));
        var agent = grains.GetGrain<IAgentGrain>("load/outage");
        await agent.Open(new AgentOpenRequest("p0", "load", "s"), grains.CreateObjectReference<IAgentObserver>(new Pools.RecordingObserver()));
        var later = grains.GetGrain<IAgentGrain>("load/outage-later"); // holds no lease until its first request
        await later.Open(new AgentOpenRequest("p0", "load", "l"), grains.CreateObjectReference<IAgentObserver>(new Pools.RecordingObserver()));
        var id = 0;
        async Task<string?> EchoAsync() => await agent.Send($$"""{"jsonrpc":"2.0","id":{{++id}},"method":"echo","params":[{{id}}]}""").WaitAsync(TimeSpan.FromSeconds(20));

        await server.StopAsync();
        var status = cluster.Silos[0].Host.Services.GetRequiredService<IClusterStatus>();
        await Eventually.TrueAsync(() => status.GetStatus().Store is { Reachable: false }, because: "the silo did not notice the outage"); // a heartbeat (100 ms here)
        var duringOutage = new List<string?>();
        for (var i = 0; i < 30; i++)
        {
            duringOutage.Add(await EchoAsync());
        }

        Assert.All(duringOutage, answer => Assert.Contains("\"result\"", answer));
        var info = await pool.GetInfo();
        output.WriteLine($"during the outage: {info.UsableConnections} usable of {info.Connections}, recycled {info.Recycled}, upstream sockets {upstream.AcceptedSockets}");
        Assert.True(info.UsableConnections == 2, $"a connection that served was given up during the outage: {info}; {string.Join("; ", await pool.GetConnections())}");

        // Several maintenance ticks of failed opens later, an agent that needs a lease still gets one: those failures are
        // the cluster's, not the upstream's, and do not open the pool's breaker (which would refuse every acquire).
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Contains("\"result\"", await later.Send("""{"jsonrpc":"2.0","id":"later","method":"echo","params":[1]}""").WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("Closed", (await pool.GetInfo()).Breaker);

        await server.StartAsync(keepData: false);
        var rotationsBefore = info.Recycled!.Rotation;
        Assert.True(
            await Retry.UntilAsync(async () => (await EchoAsync())!.Contains("\"result\"") && (await pool.GetInfo()) is { UsableConnections: >= 2 } after && after.Recycled!.Rotation > rotationsBefore, TimeSpan.FromSeconds(20)),
            $"the pool did not recover after Redis came back: {await pool.GetInfo()}; the silo logged:{Environment.NewLine}{cluster.Log}");
    }

    private sealed class LoadSetup(UpstreamServer upstream, TestCluster cluster, ClusterGateway gateway, IReadOnlyList<SiloAddress> active) : IAsyncDisposable
    {
        private TestWebSocketClient[] _clients = [];

        public TestCluster Cluster => cluster;

        public ClusterGateway Gateway => gateway;

        public IGrainFactory Grains => cluster.Silos[0].GrainFactory;

        public IReadOnlyList<SiloAddress> Active => active;

        public List<string> Agents { get; } = AgentsOnEverySilo(active);

        public static async Task<LoadSetup> StartAsync(RedisServer redis)
        {
            var upstream = await UpstreamServer.StartAsync();
            TestCluster? cluster = null;
            try
            {
                cluster = await TestCluster.StartAsync(2, redis, configure: ClusterGateway.ProductGrains, settings: PoolSettings(upstream.Url));
                var gateway = await ClusterGateway.StartAsync(cluster);
                return new LoadSetup(upstream, cluster, gateway, await cluster.WhenAllActiveAsync());
            }
            catch
            {
                await (cluster?.DisposeAsync() ?? ValueTask.CompletedTask);
                await upstream.DisposeAsync();
                throw;
            }
        }

        /// <summary>Connects one client per agent, agent <c>i</c> to pool <paramref name="poolOf"/>(i).</summary>
        public async Task<TestWebSocketClient[]> ConnectAsync(Func<int, string> poolOf)
            => _clients = await Task.WhenAll(Agents.Select((a, i) => gateway.ConnectAsync(poolOf(i), a)));

        public async ValueTask DisposeAsync()
        {
            foreach (var client in _clients)
            {
                await client.DisposeAsync();
            }

            await gateway.DisposeAsync();
            await cluster.DisposeAsync();
            await upstream.DisposeAsync();
        }
    }

    /// <summary>
    /// Two silos, a stand-alone gateway and session pool "s" with one connection, and a client socket whose agent hash
    /// placement puts on the other silo than that connection.
    /// </summary>
    private sealed class SessionSetup(UpstreamServer upstream, TestCluster cluster, ClusterGateway gateway, string agent, TestWebSocketClient client) : IAsyncDisposable
    {
        public TestWebSocketClient Client => client;

        public TestClusterSilo AgentHost => cluster.FindHost(new GrainId("agent", "load/" + agent))!;

        public TestClusterSilo ConnectionHost => cluster.FindHost(new GrainId("connection", "s/1"))!;

        public static async Task<SessionSetup> StartAsync(RedisServer redis)
        {
            var upstream = await UpstreamServer.StartAsync();
            var settings = new Dictionary<string, string?>(ClusterGateway.SiloSettings)
            {
                ["Pools:s:Url"] = upstream.Url.ToString(),
                ["Pools:s:Mode"] = "Session",
                ["Pools:s:MinConnections"] = "0",
                ["Pools:s:MaxConnections"] = "1",
                ["Pools:s:PreWarming"] = "false",
                ["Pools:s:SubProtocol"] = "mcp", // the stand-alone gateway learns it from the pool grain
            };
            TestCluster? cluster = null;
            ClusterGateway? gateway = null;
            try
            {
                cluster = await TestCluster.StartAsync(2, redis, configure: ClusterGateway.ProductGrains, settings: settings);
                gateway = await ClusterGateway.StartAsync(cluster);
                var active = await cluster.WhenAllActiveAsync();
                var connectionSilo = HashPlacement.Choose(new GrainId("connection", "s/1"), active);
                var agent = AgentsOn(active.Single(s => s != connectionSilo), active, 1)[0];
                return new SessionSetup(upstream, cluster, gateway, agent, await gateway.ConnectAsync("s", agent, o => o.AddSubProtocol("mcp")));
            }
            catch
            {
                await (gateway?.DisposeAsync() ?? ValueTask.CompletedTask);
                await (cluster?.DisposeAsync() ?? ValueTask.CompletedTask);
                await upstream.DisposeAsync();
                throw;
            }
        }

        /// <summary>An echo through the session is answered (the agent has its session connection).</summary>
        public async Task AssertEchoAnsweredAsync()
        {
            await client.SendAsync("""{"jsonrpc":"2.0","id":"before","method":"echo","params":[1]}""");
            Assert.Contains("\"result\"", await client.ReceiveAsync());
        }

        public async ValueTask DisposeAsync()
        {
            await client.DisposeAsync();
            await gateway.DisposeAsync();
            await cluster.DisposeAsync();
            await upstream.DisposeAsync();
        }
    }


    /// <summary>
    /// The silos' settings: <see cref="PoolCount"/> pools "{prefix}0".. on <paramref name="upstream"/>, up to 2 connections
    /// each, opened on demand, request mode unless <paramref name="more"/> (setting name and value for each) says otherwise.
    /// </summary>
    private static Dictionary<string, string?> PoolSettings(Uri upstream, string prefix = "p", params (string Name, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>(ClusterGateway.SiloSettings);
        for (var i = 0; i < PoolCount; i++)
        {
            settings[$"Pools:{prefix}{i}:Url"] = upstream.ToString();
            settings[$"Pools:{prefix}{i}:MinConnections"] = "0";
            settings[$"Pools:{prefix}{i}:MaxConnections"] = "2";
            settings[$"Pools:{prefix}{i}:PreWarming"] = "false";
            foreach (var (name, value) in more)
            {
                settings[$"Pools:{prefix}{i}:{name}"] = value;
            }
        }

        return settings;
    }

    /// <summary><see cref="AgentsPerSilo"/> agent ids whose grains hash placement puts on each silo.</summary>
    private static List<string> AgentsOnEverySilo(IReadOnlyList<SiloAddress> active)
        => active.SelectMany(silo => AgentsOn(silo, active, AgentsPerSilo)).ToList();

    /// <summary><paramref name="count"/> agent ids (of tenant "load") whose grains hash placement puts on <paramref name="silo"/>.</summary>
    private static List<string> AgentsOn(SiloAddress silo, IReadOnlyList<SiloAddress> active, int count)
        => Enumerable.Range(0, 1000).Select(i => "agent" + i)
            .Where(a => HashPlacement.Choose(new GrainId("agent", "load/" + a), active) == silo).Take(count).ToList();

    /// <summary>A pool (of those named "{prefix}0"..) whose grain is on one silo while hash placement puts its first connection grain on the other.</summary>
    private static async Task<(string Pool, TestClusterSilo PoolHost)> ChooseSplitPoolAsync(TestCluster cluster, IGrainFactory grains, IReadOnlyList<SiloAddress> active, string prefix = "p")
    {
        for (var i = 0; i < PoolCount; i++)
        {
            var pool = prefix + i;
            Assert.True((await grains.GetGrain<IPoolGrain>(pool).GetInfo()).Configured);
            var poolHost = cluster.FindHost(new GrainId("pool", pool))!;
            if (HashPlacement.Choose(new GrainId("connection", pool + "/1"), active) != poolHost.Address)
            {
                return (pool, poolHost);
            }
        }

        throw new InvalidOperationException($"None of {PoolCount} pools has its first connection hashed to another silo than its pool grain (chance 2^-{PoolCount}).");
    }

    /// <summary>Sends <paramref name="requests"/> echo requests at once and counts the correct answers.</summary>
    private static async Task<int> RoundTripAsync(TestWebSocketClient client, string agent, int requests)
    {
        for (var n = 0; n < requests; n++)
        {
            await client.SendAsync(Request($"{agent}-{n}", agent, n));
        }

        var correct = 0;
        for (var n = 0; n < requests; n++)
        {
            using var answer = JsonDocument.Parse((await client.ReceiveAsync())!);
            var id = answer.RootElement.GetProperty("id").GetString()!;
            var echoed = answer.RootElement.TryGetProperty("result", out var result) ? result : default;
            if (echoed.ValueKind == JsonValueKind.Array && echoed[0].GetString() == agent && id == $"{agent}-{echoed[1].GetInt32()}")
            {
                correct++;
            }
        }

        return correct;
    }

    /// <summary>Sends one request at a time until one is answered with its result; each must be answered within the response timeout.</summary>
    private static async Task<TimeSpan> UntilAnsweredAsync(TestWebSocketClient client, string agent, long killedAt)
    {
        var errors = new List<string>();
        for (var attempt = 0; ; attempt++)
        {
            if (Stopwatch.GetElapsedTime(killedAt) > RecoveryBound)
            {
                throw new TimeoutException($"{agent} got no answer within {RecoveryBound} of the kill; errors (ms after the kill: code): {Summary(errors)}");
            }

            var started = Stopwatch.GetTimestamp();
            await client.SendAsync(Request($"{agent}-after-{attempt}", agent, attempt));
            var text = await client.ReceiveAsync(TestCluster.ResponseTimeout + TimeSpan.FromSeconds(1));
            Assert.True(Stopwatch.GetElapsedTime(started) < TestCluster.ResponseTimeout, $"{agent} waited {Stopwatch.GetElapsedTime(started)} for an answer");
            using var answer = JsonDocument.Parse(text!);
            Assert.Equal($"{agent}-after-{attempt}", answer.RootElement.GetProperty("id").GetString());
            if (answer.RootElement.TryGetProperty("result", out _))
            {
                return Stopwatch.GetElapsedTime(killedAt);
            }

            // An error answer (the silo is not yet declared dead): try again shortly, as a client would.
            var error = answer.RootElement.GetProperty("error");
            errors.Add($"{Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds:F0}: {error.GetProperty("code").GetInt32()} {error.GetProperty("message").GetString()}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> while every client keeps one request in flight, and the load 1 s longer; returns how
    /// long the action took, how many requests were sent and the error answers. With <paramref name="clusterGoes"/> a
    /// client whose socket the gateway closes stops sending.
    /// </summary>
    private static async Task<(TimeSpan Took, int Sent, List<string> Errors)> UnderLoadAsync(TestWebSocketClient[] clients, List<string> agents, Func<Task> action, bool clusterGoes = false)
    {
        using var stopLoad = new CancellationTokenSource();
        var errors = new ConcurrentQueue<string>();
        var loads = clients.Select((c, i) => KeepSendingAsync(c, agents[i], errors, stopLoad.Token, clusterGoes)).ToList();
        await Task.Delay(300);
        var started = Stopwatch.StartNew();
        await action().WaitAsync(TimeSpan.FromSeconds(30));
        var took = started.Elapsed;
        await Task.Delay(1000);
        await stopLoad.CancelAsync();
        var sent = await Task.WhenAll(loads).WaitAsync(TimeSpan.FromSeconds(30));
        return (took, sent.Sum(), [.. errors]);
    }

    /// <summary>Sends one request at a time until <paramref name="stop"/>; error answers are kept in <paramref name="errors"/>. Returns how many were sent.</summary>
    private static async Task<int> KeepSendingAsync(TestWebSocketClient client, string agent, ConcurrentQueue<string> errors, CancellationToken stop, bool tolerateClose)
    {
        var sent = 0;
        while (!stop.IsCancellationRequested)
        {
            var id = $"{agent}-load-{sent}";
            string? text;
            try
            {
                await client.SendAsync(Request(id, agent, sent++));
                text = await client.ReceiveAsync(TestCluster.ResponseTimeout + TimeSpan.FromSeconds(1));
            }
            catch (Exception) when (tolerateClose)
            {
                return sent; // the cluster is gone: the gateway closed the socket
            }

            if (text is null && tolerateClose)
            {
                return sent;
            }

            using var answer = JsonDocument.Parse(text!);
            if (!answer.RootElement.TryGetProperty("result", out _))
            {
                errors.Enqueue($"{agent}: {answer.RootElement}");
            }
        }

        return sent;
    }

    private static string Summary(List<string> errors)
        => errors.Count <= 6 ? string.Join("; ", errors) : string.Join("; ", errors.Take(3)) + $"; ... ({errors.Count - 6} more); " + string.Join("; ", errors.TakeLast(3));

    private static string Request(string id, string agent, int n)
        => $$"""{"jsonrpc":"2.0","id":"{{id}}","method":"echo","params":["{{agent}}",{{n}}]}""";
}
