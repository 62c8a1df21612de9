using System.Net.WebSockets;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Sockets;
using Conduit.Grains;
using Conduit.Runtime;
using Conduit.Runtime.Activations;
using Conduit.Runtime.Observers;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Gateway;

/// <summary>Connect/disconnect churn: whatever a socket made while it was open is gone once it closed, however it closed.</summary>
public sealed class GatewayChurnTests
{
    private const int Sockets = 240;
    private const int AtOnce = 16;

    [Fact]
    public async Task Churn_SocketsOpenedAndClosedEveryWay_NothingLeftBehind()
    {
        var upstream = await UpstreamServer.StartAsync(); // the host disposes it
        await using var host = await GatewayTestHost.StartAsync(
            new()
            {
                // Closed agents must become collectable: a short collection age shows it within the test.
                ["Silo:CollectionAge"] = "00:00:01",
                ["Silo:CollectionQuantum"] = "00:00:00.200",
                ["Pools:sess:Url"] = upstream.Url.ToString(),
                ["Pools:sess:Mode"] = "Session",
                ["Pools:sess:MinConnections"] = "0",
                ["Pools:sess:MaxConnections"] = $"{AtOnce}",
                ["Pools:sess:PreWarming"] = "false",
            },
            upstream);
        var registry = host.App.Services.GetRequiredService<SessionRegistry>();
        var observers = host.App.Services.GetRequiredService<ObserverRegistry>();
        var metrics = host.App.Services.GetRequiredService<GatewayMetrics>();
        var catalog = host.App.Services.GetRequiredService<SiloRuntime>().Catalog;
        await using (var warm = await host.ConnectAsync())
        {
            await AssertEchoAsync(warm, "warm");
        }

        await Eventually.TrueAsync(() => registry.Count == 0);
        var observersBefore = observers.Count;

        for (var start = 0; start < Sockets; start += AtOnce)
        {
            await Task.WhenAll(Enumerable.Range(start, AtOnce).Select(i => OneSocketAsync(host, i))).WaitAsync(TimeSpan.FromSeconds(60));
        }

        // Sessions, observers, in-flight counts, quota permits and leases go at once (the sessions' leases within the idle
        // release); closed agents are collected and closed session connections deactivate.
        await Eventually.TrueAsync(() => registry.Count == 0, TimeSpan.FromSeconds(10), "client sessions left in the registry");
        await Eventually.TrueAsync(() => observers.Count == observersBefore, TimeSpan.FromSeconds(10), $"observers left: {observers.Count} against {observersBefore}");
        Assert.Equal(0, Volatile.Read(ref metrics.InFlight));
        Assert.All(metrics.Pools, p => Assert.Equal(0, Volatile.Read(ref p.Value.InFlight)));
        var quota = host.Grains.GetGrain<IQuotaGrain>("global");
        await Eventually.TrueAsync(async () => (await quota.GetUsage()).Single(u => u.Tenant == "load").Sockets == 0, TimeSpan.FromSeconds(10), "socket permits left");
        foreach (var pool in new[] { "up", "sess" })
        {
            await Eventually.TrueAsync(async () => (await host.Grains.GetGrain<IPoolGrain>(pool).GetInfo()).LeasesInUse == 0, TimeSpan.FromSeconds(10), $"leases left in pool {pool}");
        }

        await Eventually.TrueAsync(() => CountOf(catalog, "agent") == 0, TimeSpan.FromSeconds(15), $"agent activations left: {CountOf(catalog, "agent")}");
        var poolConnections = (await host.Grains.GetGrain<IPoolGrain>("up").GetConnections()).Count + (await host.Grains.GetGrain<IPoolGrain>("sess").GetConnections()).Count;
        await Eventually.TrueAsync(() => CountOf(catalog, "connection") <= poolConnections, TimeSpan.FromSeconds(15), $"connection activations: {CountOf(catalog, "connection")} for {poolConnections} pool connections");
        await Eventually.TrueAsync(() => upstream.OpenSockets <= poolConnections, TimeSpan.FromSeconds(10), $"upstream sockets open: {upstream.OpenSockets} for {poolConnections} pool connections");

        await using var after = await host.ConnectAsync();
        try
        {
            await AssertEchoAsync(after, "after");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var up = host.Grains.GetGrain<IPoolGrain>("up");
            throw new Xunit.Sdk.XunitException($"{e.Message}\npool up: {await up.GetInfo()}\nconnections: {string.Join("; ", await up.GetConnections())}");
        }
    }

    [Fact]
    public async Task AgentWithoutAnId_GoesWhenItsSocketCloses_ANamedAgentStaysForItsDeduplicationWindow()
    {
        // The default collection age (15 min): a closed agent that a client may reconnect to stays that long, but an
        // agent whose id the gateway chose cannot be reached again, and a client reconnecting without an id must not
        // leave one activation (and its de-duplication window) per socket behind for 15 minutes.
        await using var host = await GatewayTestHost.StartAsync();
        var catalog = host.App.Services.GetRequiredService<SiloRuntime>().Catalog;
        var registry = host.App.Services.GetRequiredService<SessionRegistry>();
        await using (var named = await host.ConnectAsync(agent: "keeper"))
        {
            await AssertEchoAsync(named, "k1");
            await named.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }

        for (var ending = 0; ending < 3; ending++)
        {
            await using var anonymous = await host.ConnectAsync();
            await AssertEchoAsync(anonymous, $"a{ending}");
            switch (ending)
            {
                case 0:
                    await anonymous.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    break;
                case 1:
                    await anonymous.SendAsync(JsonAssert.Request(200, "sleep", "{\"ms\":300}")); // aborted with it in flight
                    await Task.Delay(20);
                    break;
            }
        }

        await Eventually.TrueAsync(() => registry.Count == 0, TimeSpan.FromSeconds(10), "client sessions left in the registry");
        await Eventually.TrueAsync(() => CountOf(catalog, "agent") == 1, TimeSpan.FromSeconds(10), $"agent activations: {CountOf(catalog, "agent")}, 1 expected");
        Assert.NotNull(catalog.Find(new GrainId("agent", "load/keeper")));

        // The named agent kept its window: the same id on a new socket is answered from it, not sent upstream again.
        var echoes = host.Upstream.CountOf("echo");
        await using var again = await host.ConnectAsync(agent: "keeper");
        await AssertEchoAsync(again, "k1");
        Assert.Equal(echoes, host.Upstream.CountOf("echo"));
    }

    /// <summary>
    /// One client: request or session pool, a fresh or a reused agent id, a few requests (a subscription in a session),
    /// then one of three ends: a close handshake, an abort with a request in flight, an abort of an idle socket.
    /// </summary>
    private static async Task OneSocketAsync(GatewayTestHost host, int i)
    {
        var session = i % 4 == 0;
        // Request-mode agent ids are reused by later sockets (possibly before the gateway saw the old socket go); a
        // session's are not, as a reconnecting agent takes its session over, subscription and all.
        var client = await host.ConnectAsync(pool: session ? "sess" : "up", agent: !session && i % 2 == 0 ? $"again-{i % AtOnce}" : null);
        try
        {
            for (var n = 0; n < 3; n++)
            {
                await AssertEchoAsync(client, $"{i}-{n}");
            }

            if (session)
            {
                // The answer, then the first notification (a push never overtakes an answer the upstream sent before it).
                await client.SendAsync(JsonAssert.Request(100, "subscribe", "{\"count\":100000,\"intervalMs\":10}"));
                Assert.StartsWith("{\"jsonrpc\":\"2.0\",\"id\":100,\"result\"", await client.ReceiveAsync());
                Assert.Contains("\"method\":\"subscription\"", await client.ReceiveAsync());
            }

            switch (i % 3)
            {
                case 0:
                    await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
                    break;
                case 1:
                    await client.SendAsync(JsonAssert.Request(200, "sleep", "{\"ms\":200}"));
                    await Task.Delay(20);
                    break;
            }
        }
        finally
        {
            await client.DisposeAsync(); // an abort unless it closed above
        }
    }

    private static async Task AssertEchoAsync(TestWebSocketClient client, string id)
    {
        await client.SendAsync($$"""{"jsonrpc":"2.0","id":"{{id}}","method":"echo","params":[1]}""");
        var answer = await client.ReceiveAsync();
        Assert.True(answer is not null && answer.Contains($"\"id\":\"{id}\",\"result\"", StringComparison.Ordinal), $"request {id} got: {answer ?? "a close (" + client.Socket.CloseStatus + " " + client.Socket.CloseStatusDescription + ")"}");
    }

    private static int CountOf(Catalog catalog, string grainType) => catalog.Activations.Count(a => a.GrainId.Type == grainType);
}
