using System.Text.Json;
using Conduit.Grains;
using Conduit.Grains.Agents;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Pools;

public sealed class AgentGrainTests : IAsyncLifetime
{
    private PoolTestHost _host = null!;

    public async Task InitializeAsync() => _host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "2", ["MaxConnections"] = "3" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<IAgentGrain> OpenAgentAsync(string key, RecordingObserver? observer = null) => OpenAgentAsync(_host, key, observer);

    /// <summary>Opens agent <paramref name="key"/> ("{tenant}/{agent}") on pool "main" for a new socket whose observer is <paramref name="observer"/>.</summary>
    private static async Task<IAgentGrain> OpenAgentAsync(PoolTestHost host, string key, RecordingObserver? observer = null)
    {
        var agent = host.Grains.GetGrain<IAgentGrain>(key);
        var reference = host.Grains.CreateObjectReference<IAgentObserver>(observer ?? new RecordingObserver());
        await agent.Open(new AgentOpenRequest("main", key[..key.IndexOf('/')], Guid.NewGuid().ToString()), reference);
        return agent;
    }

    [Fact]
    public async Task Send_NumericAndStringIds_ComeBackUnchanged()
    {
        var agent = await OpenAgentAsync("t1/a");
        using var numeric = JsonDocument.Parse((await agent.Send("""{"jsonrpc":"2.0","id":41,"method":"echo","params":{"x":1}}"""))!);
        using var text = JsonDocument.Parse((await agent.Send("""{"jsonrpc":"2.0","id":"req-7","method":"add","params":[2,3]}"""))!);

        Assert.Equal(41, numeric.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(1, numeric.RootElement.GetProperty("result").GetProperty("x").GetInt32());
        Assert.Equal("req-7", text.RootElement.GetProperty("id").GetString());
        Assert.Equal(5, text.RootElement.GetProperty("result").GetDouble());
    }

    [Fact]
    public async Task Send_Notification_ReturnsNullAndReachesUpstream()
    {
        var agent = await OpenAgentAsync("t1/n");
        Assert.Null(await agent.Send("""{"jsonrpc":"2.0","method":"echo","params":[1]}"""));
        await Eventually.TrueAsync(() => _host.Upstream.CountOf("echo") == 1);
        Assert.True(_host.Upstream.Received.Single().IsNotification);
    }

    [Fact]
    public async Task SendBatch_MixedIdsAndNotification_AnsweredAsArray()
    {
        var agent = await OpenAgentAsync("t1/batch");
        var reply = await agent.SendBatch("""[{"jsonrpc":"2.0","id":1,"method":"echo","params":["a"]},{"jsonrpc":"2.0","method":"echo","params":["n"]},{"jsonrpc":"2.0","id":"two","method":"error","params":{"why":1}}]""");

        using var doc = JsonDocument.Parse(reply!);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        Assert.Equal(1, doc.RootElement[0].GetProperty("id").GetInt32());
        Assert.Equal("a", doc.RootElement[0].GetProperty("result")[0].GetString());
        Assert.Equal("two", doc.RootElement[1].GetProperty("id").GetString());
        Assert.Equal(-32000, doc.RootElement[1].GetProperty("error").GetProperty("code").GetInt32());
        await Eventually.TrueAsync(() => _host.Upstream.TotalReceived == 3);
        Assert.Null(await agent.SendBatch("""[{"jsonrpc":"2.0","method":"echo"}]"""));
        Assert.Contains("-32600", await agent.SendBatch("[]"));
    }

    [Fact]
    public async Task Send_IdNull_NeverDeduplicated_EachRequestGoesUpstreamAndGetsItsOwnAnswer()
    {
        // JSON-RPC allows (and discourages) a null id: it names no request, so two of them are two requests.
        var agent = await OpenAgentAsync("t1/null-ids");

        var first = await agent.Send("""{"jsonrpc":"2.0","id":null,"method":"echo","params":[1]}""");
        var second = await agent.Send("""{"jsonrpc":"2.0","id":null,"method":"echo","params":[2]}""");

        Assert.Equal("""{"jsonrpc":"2.0","id":null,"result":[1]}""", first);
        Assert.Equal("""{"jsonrpc":"2.0","id":null,"result":[2]}""", second);
        Assert.Equal(2, _host.Upstream.CountOf("echo"));
    }

    [Fact]
    public async Task Send_SameIdTwiceWithinWindow_ReachesUpstreamOnce()
    {
        var agent = await OpenAgentAsync("t1/dedup");
        _host.Upstream.Faults.ReplyDelay = TimeSpan.FromMilliseconds(200);

        // The second joins the first while it is in flight; the third is answered from the cache.
        var first = agent.Send("""{"jsonrpc":"2.0","id":"same","method":"echo","params":[1]}""");
        var second = agent.Send("""{"jsonrpc":"2.0","id":"same","method":"echo","params":[1]}""");
        var answers = await Task.WhenAll(first, second);
        var third = await agent.Send("""{"jsonrpc":"2.0","id":"same","method":"echo","params":[1]}""");

        Assert.Equal(answers[0], answers[1]);
        Assert.Equal(answers[0], third);
        Assert.Equal(1, _host.Upstream.CountOf("echo"));

        // A numeric 7 and a string "7" are different ids.
        await agent.Send("""{"jsonrpc":"2.0","id":7,"method":"echo"}""");
        await agent.Send("""{"jsonrpc":"2.0","id":"7","method":"echo"}""");
        Assert.Equal(3, _host.Upstream.CountOf("echo"));
    }

    [Fact]
    public async Task Send_ServiceErrorNotCached_RetryWithSameIdIsForwarded()
    {
        var agent = await OpenAgentAsync("t1/retry");
        _host.Upstream.Faults.SendGarbage = true;
        var failed = await agent.Send("""{"jsonrpc":"2.0","id":5,"method":"echo"}""");
        Assert.Contains("-32004", failed);
        _host.Upstream.Faults.SendGarbage = false;

        string? retried = null;
        for (var i = 0; i < 100 && (retried is null || retried.Contains("error", StringComparison.Ordinal)); i++)
        {
            retried = await agent.Send("""{"jsonrpc":"2.0","id":5,"method":"echo"}""");
            await Task.Delay(20);
        }

        Assert.Contains("result", retried);
    }

    [Fact]
    public async Task SessionMode_Forward_AnswersAndPushesNumberedInTheUpstreamsOrder_FromTheSessionsStart_DuplicatesAndRequestModeUnnumbered()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "2" });
        var observer = new RecordingObserver();
        var agent = await OpenAgentAsync(host, "t1/ordered", observer);

        var first = await agent.Forward("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        var second = await agent.Forward("""{"jsonrpc":"2.0","id":2,"method":"notify_me","params":{"count":2}}""");
        await Eventually.TrueAsync(() => observer.Messages.Count == 2);
        var duplicate = await agent.Forward("""{"jsonrpc":"2.0","id":2,"method":"notify_me","params":{"count":2}}""");

        Assert.Equal((1L, 2L), (first.Sequence, second.Sequence));
        Assert.Equal([3L, 4L], observer.Sequences);
        Assert.Equal((second.Response, 0L), (duplicate.Response, duplicate.Sequence)); // a copy from the cache: not the upstream's now
    }

    [Fact]
    public async Task SessionMode_PoolReactivated_NeverHandsASessionItDidNotGrantToAnotherAgent_ItsHolderIsToldAndItIsRecycled()
    {
        // The pool's books are in memory: a pool activated again (its silo stopped or died) found the connection of a
        // live session Ready and lease-free, and gave it to the next agent, whose client then got the first session's
        // upstream messages (its subscriptions), across tenants. The agent renews its lease every LeaseTimeout / 3 (4 s):
        // its first renewal after the move ends its session, so the steps up to its notifications must come before that.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "2", ["PreWarming"] = "false", ["LeaseTimeout"] = "00:00:12",
        });
        var first = new RecordingObserver();
        var agentA = await OpenAgentAsync(host, "t1/a", first);
        Assert.Contains("result", await agentA.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        var catalog = host.Silo.Services.GetRequiredService<Conduit.Runtime.Activations.SiloRuntime>().Catalog;
        var poolId = new Conduit.Runtime.GrainId("pool", "main");
        catalog.Find(poolId)!.Deactivate(new Conduit.Runtime.DeactivationReason(Conduit.Runtime.DeactivationReasonCode.ApplicationRequested, "test: the pool moves"));
        await Eventually.TrueAsync(() => catalog.Find(poolId) is null);

        var second = new RecordingObserver();
        var agentB = await OpenAgentAsync(host, "t2/b", second);
        Assert.Contains("result", await agentB.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        await agentA.Send("""{"jsonrpc":"2.0","id":2,"method":"notify_me","params":{"count":2}}""");

        await Eventually.TrueAsync(() => first.Messages.Count == 2);
        Assert.Empty(second.Messages);
        Assert.Equal(2, host.Upstream.AcceptedSockets); // B has a connection of its own

        // A learns at its next renewal that the new pool does not know its lease: its session ends, and the connection
        // that carried it is recycled rather than handed on.
        await Eventually.TrueAsync(() => first.Closes.Any(c => c.Code == 1011), TimeSpan.FromSeconds(10));
        var pool = host.Grains.GetGrain<IPoolGrain>("main");
        // At once, as the agent detaches (its connection reports it), not LeaseTimeout (12 s) after the move.
        await Eventually.TrueAsync(
            async () => (await pool.GetInfo()).LeasesInUse == 1 && host.Upstream.OpenSockets == 1,
            TimeSpan.FromSeconds(6),
            "the old session's connection was not recycled: not one lease (B's) and one upstream socket");
        Assert.Empty(second.Closes);
    }

    [Fact]
    public async Task RequestMode_Forward_AnswersUnnumbered()
    {
        await using var host = await PoolTestHost.StartAsync();
        var agent = host.Grains.GetGrain<IAgentGrain>("t1/plain");
        await agent.Open(new AgentOpenRequest("main", "t1", "s1"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));

        var answer = await agent.Forward("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");

        Assert.Contains("result", answer.Response);
        Assert.Equal(0, answer.Sequence);
    }

    [Fact]
    public async Task SessionMode_UpstreamPushes_ReachTheAgentsObserver()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "2" });
        var observer = new RecordingObserver();
        var agent = await OpenAgentAsync(host, "t1/subscriber", observer);
        var otherObserver = new RecordingObserver();
        var other = await OpenAgentAsync(host, "t1/other", otherObserver);
        Assert.Contains("result", await other.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));

        var reply = await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"count":3,"intervalMs":5}}""");
        using var doc = JsonDocument.Parse(reply!);
        var subscription = doc.RootElement.GetProperty("result").GetString();

        await Eventually.TrueAsync(() => observer.Messages.Count == 3);
        Assert.All(observer.Messages, m => Assert.Contains(subscription!, m));
        Assert.Equal(["0", "1", "2"], observer.Messages.Select(m => JsonDocument.Parse(m).RootElement.GetProperty("params").GetProperty("result").ToString()));
        Assert.Empty(otherObserver.Messages);

        // Session mode: each agent holds its own connection.
        Assert.Equal(2, host.Upstream.AcceptedSockets);
    }

    [Fact]
    public async Task Send_NotOpenedThrowsAgentNotOpen_UnknownPoolErrorObjects()
    {
        // Not open (e.g. activated again after its silo died): the caller is told to open it again, nothing is sent.
        var stranger = _host.Grains.GetGrain<IAgentGrain>("t1/never-opened");
        await Assert.ThrowsAsync<AgentNotOpenException>(() => stranger.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        Assert.Equal(0, _host.Upstream.TotalReceived);

        var lost = _host.Grains.GetGrain<IAgentGrain>("t1/lost");
        await lost.Open(new AgentOpenRequest("missing", "t1", "x"), _host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        Assert.Contains("not configured", await lost.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        Assert.Contains("-32700", await lost.Send("not json"));
        Assert.Contains("-32600", await lost.Send("""{"jsonrpc":"2.0","id":1}"""));
    }

    [Fact]
    public async Task Rebind_RequestModeBindsAgainForTheResend_SessionModeStaysClosed()
    {
        // A fresh activation stands for an agent activated again after its silo died.
        var again = _host.Grains.GetGrain<IAgentGrain>("t1/again");
        await Assert.ThrowsAsync<AgentNotOpenException>(() => again.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        Assert.True(await again.Rebind(new AgentOpenRequest("main", "t1", "a"), _host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver())));
        Assert.Contains("result", await again.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));

        // Session mode: the session's connection was the old activation's, so nothing is resent on a new one.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "1" });
        var session = host.Grains.GetGrain<IAgentGrain>("t1/session-again");
        Assert.False(await session.Rebind(new AgentOpenRequest("main", "t1", "s"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver())));
        await Assert.ThrowsAsync<AgentNotOpenException>(() => session.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        Assert.Equal(0, host.Upstream.TotalReceived);
    }

    [Fact]
    public async Task Close_OfASocketThatAnotherSocketTookOver_Ignored_TheNewSocketKeepsAgentAndSession()
    {
        // A client reconnects with the same agent id before the gateway noticed that its old socket died: the old
        // socket's late close must not take the agent, its lease or its session away from the new one.
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "2" });
        var pool = await host.UsablePoolAsync(1);
        var agent = host.Grains.GetGrain<IAgentGrain>("t1/reconnects");
        var oldObserver = new RecordingObserver();
        var newObserver = new RecordingObserver();
        await agent.Open(new AgentOpenRequest("main", "t1", "old-socket"), host.Grains.CreateObjectReference<IAgentObserver>(oldObserver));
        Assert.Contains("result", await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        await agent.Open(new AgentOpenRequest("main", "t1", "new-socket"), host.Grains.CreateObjectReference<IAgentObserver>(newObserver));

        await agent.Close("old-socket");

        Assert.Equal(1, (await pool.GetInfo()).LeasesInUse);
        Assert.True(await host.Upstream.PushAsync("""{"jsonrpc":"2.0","method":"ping","params":{}}""") >= 1); // a spare connection has no observer
        await Eventually.TrueAsync(() => newObserver.Messages.Count == 1);
        Assert.Empty(oldObserver.Messages);
        Assert.Contains("result", await agent.Send("""{"jsonrpc":"2.0","id":2,"method":"echo"}"""));

        await agent.Close("new-socket");
        Assert.Equal(0, (await pool.GetInfo()).LeasesInUse);
    }

    [Fact]
    public async Task SessionMode_PastMaxRequestsPerConnection_SessionGoesOn_ItsConnectionIsRecycledWhenItEnds()
    {
        // Rotation drains a connection so that a fresh one takes its place; a session lives on its connection, so it is
        // not cut for it (its connection is recycled anyway when the session ends).
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "2", ["MaxRequestsPerConnection"] = "5", ["PreWarming"] = "false",
        });
        var pool = await host.UsablePoolAsync(1);
        var observer = new RecordingObserver();
        var agent = host.Grains.GetGrain<IAgentGrain>("t1/long-session");
        await agent.Open(new AgentOpenRequest("main", "t1", "s"), host.Grains.CreateObjectReference<IAgentObserver>(observer));
        var accepted = host.Upstream.AcceptedSockets;

        for (var i = 1; i <= 20; i++)
        {
            Assert.Contains("result", await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo"}"""));
        }

        await Task.Delay(200); // a rotation would have been reported and acted on by now
        Assert.Empty(observer.Closes);
        Assert.Equal(accepted, host.Upstream.AcceptedSockets);
        var reports = await Task.WhenAll((await pool.GetConnections()).Select(c => host.Grains.GetGrain<IConnectionGrain>(c.Connection).GetReport()));
        var session = Assert.Single(reports, r => r.Requests >= 20);

        await agent.Close("s");
        await Eventually.TrueAsync(async () => (await pool.GetConnections()).All(c => c.Connection != session.Connection));
        Assert.Equal(PoolRecycleCounts.None with { SessionEnded = 1 }, (await pool.GetInfo()).Recycled); // not rotated before
    }

    [Fact]
    public async Task Send_AfterWindow_ForwardedAgain()
    {
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "1", ["LeaseIdleRelease"] = "00:00:20" }, clock);
        var agent = host.Grains.GetGrain<IAgentGrain>("t1/window");
        await agent.Open(new AgentOpenRequest("main", "t1", "w"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));

        await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        clock.Advance(TimeSpan.FromSeconds(299));
        await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        Assert.Equal(1, host.Upstream.CountOf("echo"));

        clock.Advance(TimeSpan.FromSeconds(2));
        await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        Assert.Equal(2, host.Upstream.CountOf("echo"));
    }

    [Fact]
    public async Task OpenPoolConnections_AreNotCollectedWhileIdle_EvenWhenNoTimerTicksWithinTheCollectionAge()
    {
        // A warm connection is process state: idle collection must not close it (and make the pool open another),
        // however the health check interval compares with the collection age.
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "2", ["HealthCheckInterval"] = "02:00:00", ["ConnectionTtl"] = "10:00:00", ["PreWarming"] = "false" }, clock);
        await host.UsablePoolAsync(2);
        var accepted = host.Upstream.AcceptedSockets;

        // An hour without traffic: four times the default collection age, with the collector running each minute.
        await clock.AdvanceInStepsAsync(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));

        Assert.Equal(accepted, host.Upstream.AcceptedSockets);
        Assert.Equal(2, host.Upstream.OpenSockets);
        var agent = host.Grains.GetGrain<IAgentGrain>("t1/after-an-hour");
        await agent.Open(new AgentOpenRequest("main", "t1", "h"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        Assert.Contains("result", await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        Assert.Equal(accepted, host.Upstream.AcceptedSockets);
    }

    [Fact]
    public async Task OpenAgent_IsNotCollectedWhileIdle_ClosedOneIs()
    {
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "1" }, clock);
        var open = host.Grains.GetGrain<IAgentGrain>("t1/open");
        await open.Open(new AgentOpenRequest("main", "t1", "o"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        var closed = host.Grains.GetGrain<IAgentGrain>("t1/closed");
        await closed.Open(new AgentOpenRequest("main", "t1", "c"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        await closed.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        await closed.Close("c");

        // An hour without traffic: four times the default collection age, with the collector running each minute.
        await clock.AdvanceInStepsAsync(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));

        Assert.Contains("result", await open.Send("""{"jsonrpc":"2.0","id":2,"method":"echo"}"""));
        await Assert.ThrowsAsync<AgentNotOpenException>(() => closed.Send("""{"jsonrpc":"2.0","id":3,"method":"echo"}"""));
    }

    [Fact]
    public async Task ClosedNamedAgent_StaysWhileItsWindowCanAnswerAReconnectingClient_GoesOnceItIsEmpty()
    {
        var clock = new FakeTimeProvider();
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "1" }, clock);
        var catalog = host.Silo.Services.GetRequiredService<Conduit.Runtime.Activations.SiloRuntime>().Catalog;
        bool Active(string key) => catalog.Activations.Any(a => a.GrainId == new Conduit.Runtime.GrainId("agent", key));
        var agent = host.Grains.GetGrain<IAgentGrain>("t1/reconnects");
        await agent.Open(new AgentOpenRequest("main", "t1", "first"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        await agent.Close("first");
        var quiet = host.Grains.GetGrain<IAgentGrain>("t1/never-sent");
        await quiet.Open(new AgentOpenRequest("main", "t1", "q"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        await quiet.Close("q");

        // Four minutes later the client reconnects with the same agent id and repeats its request: answered from the window.
        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(1));
        Assert.True(Active("t1/reconnects"));
        await agent.Open(new AgentOpenRequest("main", "t1", "second"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
        Assert.Contains("result", await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));
        Assert.Equal(1, host.Upstream.CountOf("echo"));
        await agent.Close("second");

        // Once the window is empty the agent goes, long before its collection age (15 min); one with nothing in its window
        // went at its close.
        await Eventually.TrueAsync(() => !Active("t1/never-sent"));
        await clock.AdvanceInStepsAsync(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(1));
        await Eventually.TrueAsync(() => !Active("t1/reconnects"), because: "the closed agent stayed with an empty window");
    }

    [Fact]
    public async Task SessionMode_UpstreamRequestToClient_ClientAnswerGoesUpstreamUnchanged()
    {
        await using var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["Mode"] = "session", ["MinConnections"] = "1", ["MaxConnections"] = "1" });
        var observer = new RecordingObserver();
        var agent = host.Grains.GetGrain<IAgentGrain>("t1/answers");
        await agent.Open(new AgentOpenRequest("main", "t1", "s"), host.Grains.CreateObjectReference<IAgentObserver>(observer));
        Assert.Contains("result", await agent.Send("""{"jsonrpc":"2.0","id":1,"method":"echo"}"""));

        Assert.Equal(1, await host.Upstream.PushAsync("""{"jsonrpc":"2.0","id":"srv-1","method":"sampling/create","params":{}}"""));
        await Eventually.TrueAsync(() => observer.Messages.Count == 1);
        Assert.Contains("srv-1", observer.Messages.Single());

        Assert.Null(await agent.Send("""{"jsonrpc":"2.0","id":"srv-1","result":{"text":"hi"}}"""));
        await Eventually.TrueAsync(() => host.Upstream.CountOf(UpstreamServer.ResponseMethod) == 1);
        Assert.Equal("\"srv-1\"", host.Upstream.Received.Single(r => r.Method == UpstreamServer.ResponseMethod).IdJson);
    }

    [Fact]
    public async Task RequestMode_ResponseObjectFromClient_InvalidRequest()
    {
        var agent = await OpenAgentAsync("t1/stray-response");
        Assert.Contains("-32600", await agent.Send("""{"jsonrpc":"2.0","id":"x","result":1}"""));
    }

    [Fact]
    public async Task Send_MoreIdsThanDedupMaxEntries_OldestForgottenNewestStillDeduplicated()
    {
        var (host, agent) = await StartWithAgentOptionsAsync(o => o.DedupMaxEntries = 2);
        await using var stop = host;

        foreach (var id in new[] { 1, 2, 3, 1, 3 })
        {
            Assert.Contains("result", await agent.Send($$"""{"jsonrpc":"2.0","id":{{id}},"method":"echo"}"""));
        }

        // 1, 2, 3 went upstream; the repeated 1 had been pushed out by 3 (at most 2 remembered) and went again;
        // the repeated 3 was answered from the cache.
        Assert.Equal(4, host.Upstream.CountOf("echo"));
    }

    [Fact]
    public async Task Send_AnswersBeyondDedupMaxBytes_OldestForgottenNewestStillDeduplicated()
    {
        var (host, agent) = await StartWithAgentOptionsAsync(o => o.DedupMaxBytes = 1_000);
        await using var stop = host;
        var text = new string('x', 300); // each answer about 340 bytes: two fit in 1,000
        string Request(int id) => $$"""{"jsonrpc":"2.0","id":{{id}},"method":"echo","params":["{{text}}"]}""";

        foreach (var id in new[] { 1, 2, 3, 4, 5 })
        {
            Assert.Contains(text, await agent.Send(Request(id)));
        }

        // 4 and 5 are remembered and answered from the cache; 1 was pushed out by the byte budget and goes upstream again.
        Assert.Contains(text, await agent.Send(Request(5)));
        Assert.Contains(text, await agent.Send(Request(4)));
        Assert.Equal(5, host.Upstream.CountOf("echo"));
        Assert.Contains(text, await agent.Send(Request(1)));
        Assert.Equal(6, host.Upstream.CountOf("echo"));
    }

    /// <summary>A host of its own with one upstream connection and the given agent settings, and an agent opened on it.</summary>
    private static async Task<(PoolTestHost Host, IAgentGrain Agent)> StartWithAgentOptionsAsync(Action<AgentOptions> configure)
    {
        var host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "1" }, services: s => s.Configure(configure));
        try
        {
            var agent = host.Grains.GetGrain<IAgentGrain>("t1/configured");
            await agent.Open(new AgentOpenRequest("main", "t1", "c"), host.Grains.CreateObjectReference<IAgentObserver>(new RecordingObserver()));
            return (host, agent);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }
}
