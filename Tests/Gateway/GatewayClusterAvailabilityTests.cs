using System.Net;
using Conduit.Runtime;
using Conduit.Runtime.Cluster;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Gateway;

/// <summary>
/// A stand-alone gateway (cluster client) in front of a real silo on a real redis-server, the silo killed abruptly:
/// until the cluster declares it dead, whatever needs its grains is answered as "unavailable, retry", not as a bug.
/// </summary>
public sealed class GatewayClusterAvailabilityTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Upgrade_SiloOfItsGrainsKilled_503WithRetryAfterAndOpenSocketGetsUpstreamFailed_Issue3()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var settings = new Dictionary<string, string?>(ClusterGateway.SiloSettings)
        {
            ["Pools:up:Url"] = upstream.Url.ToString(),
            ["Pools:up:MinConnections"] = "1",
            ["Pools:other:Url"] = upstream.Url.ToString(),
            ["Pools:other:MinConnections"] = "1",
        };
        // One silo: once it is killed nobody declares it dead, so the window of "crashed, not yet dead" stays open.
        await using var cluster = await TestCluster.StartAsync(1, redis.Server, configure: ClusterGateway.ProductGrains, settings: settings);
        await using var gateway = await ClusterGateway.StartAsync(cluster);
        await using var client = await gateway.ConnectAsync("up");
        await client.SendAsync(JsonAssert.Request(1, "echo", "[1]"));
        Assert.Equal(1, JsonAssert.Parse(await client.ReceiveAsync()).GetProperty("result")[0].GetInt32());

        await cluster.Silos[0].KillAsync();

        // Open socket: the agent's silo is gone, so the request gets DESIGN's upstream-failed code, at once.
        await client.SendAsync(JsonAssert.Request(2, "echo", "[2]"));
        var failed = JsonAssert.Parse(await client.ReceiveAsync(TimeSpan.FromSeconds(4)));
        Assert.Equal("2", JsonAssert.Id(failed));
        Assert.Equal(-32004, JsonAssert.ErrorCode(failed));
        Assert.Equal("up", failed.GetProperty("error").GetProperty("data").GetProperty("pool").GetString());

        // Upgrade to a pool not looked up yet: the pool grain cannot be reached.
        var (status, retryAfter) = await WebSocketUpgrade.TryAsync(gateway.SocketUri("other"), ClusterGateway.Key);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal(TimeSpan.FromSeconds(5), retryAfter?.Delta);

        // Upgrade to the pool cached as existing: the quota grain cannot be reached. Clients retrying meanwhile do not
        // write a warning each.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            (status, retryAfter) = await WebSocketUpgrade.TryAsync(gateway.SocketUri("up"), ClusterGateway.Key);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal(TimeSpan.FromSeconds(5), retryAfter?.Delta);
        }

        Assert.Single(cluster.Log.Lines, l => l.Contains("The quota grain cannot be reached to admit a socket", StringComparison.Ordinal));
        Assert.Single(cluster.Log.Lines, l => l.Contains("Refused a WebSocket upgrade with 503", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upgrade_AgentLivesOnKilledSilo_503WithRetryAfterBeforeTheUpgrade_Issue3()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var settings = new Dictionary<string, string?>(ClusterGateway.SiloSettings) { ["Pools:up:Url"] = upstream.Url.ToString(), ["Pools:up:MinConnections"] = "1" };
        // A long death timeout keeps the killed silo "crashed but not yet dead" for the whole test (with its port open, below).
        await using var cluster = await TestCluster.StartAsync(2, redis.Server, o => o.DeathTimeout = TimeSpan.FromSeconds(60), ClusterGateway.ProductGrains, settings);
        var active = await cluster.WhenAllActiveAsync();
        await using var gateway = await ClusterGateway.StartAsync(cluster);
        await EchoOnceAsync(gateway, agent: null); // the pool is now known to the gateway and the quota grain is active

        // A client whose agent lives on the silo that will crash (not the quota grain's silo) reconnects after the crash.
        var victim = cluster.Silos.Single(s => !s.Holds(new GrainId("quota", "global")));
        var agent = Enumerable.Range(0, 1000).Select(i => "a" + i).First(a => HashPlacement.Choose(new GrainId("agent", "load/" + a), active) == victim.Address);
        await EchoOnceAsync(gateway, agent);
        Assert.True(victim.Holds(new GrainId("agent", "load/" + agent)));
        // Its host vanishes (not only its process): its port does not refuse, so only the death timeout can declare it dead.
        await victim.KillAsync(hostVanishes: true);

        var (status, retryAfter) = await WebSocketUpgrade.TryAsync(gateway.SocketUri("up", agent), ClusterGateway.Key);

        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"{status}; the cluster logged:{Environment.NewLine}{cluster.Log}");
        Assert.Equal(TimeSpan.FromSeconds(5), retryAfter?.Delta);
    }

    private static async Task EchoOnceAsync(ClusterGateway gateway, string? agent)
    {
        await using var client = await gateway.ConnectAsync("up", agent);
        await client.SendAsync(JsonAssert.Request(1, "echo", "[1]"));
        Assert.Equal(1, JsonAssert.Parse(await client.ReceiveAsync()).GetProperty("result")[0].GetInt32());
    }

}
