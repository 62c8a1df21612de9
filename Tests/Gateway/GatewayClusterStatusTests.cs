using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Gateway;

/// <summary>
/// What an operator sees of the cluster through a stand-alone gateway (/api/cluster, /health/websocket, /metrics and
/// the dashboard in real Chromium), with real silos on a real redis-server that is stopped and started again, and a
/// silo killed.
/// </summary>
public sealed class GatewayClusterStatusTests
{
    [Fact]
    public async Task ClusterStatus_ShowsTheSilos_TheStoreOutageAndItsEnd_AndWhoDeclaredASiloDead()
    {
        await using var redis = await RedisServer.StartNewAsync(); // stopped below: not the shared fixture
        await using var upstream = await UpstreamServer.StartAsync();
        var settings = new Dictionary<string, string?>(ClusterGateway.SiloSettings) { ["Pools:up:Url"] = upstream.Url.ToString() };
        await using var cluster = await TestCluster.StartAsync(2, redis, configure: ClusterGateway.ProductGrains, settings: settings);
        await cluster.WhenAllActiveAsync();
        await using var gateway = await ClusterGateway.StartAsync(cluster);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        // Both silos, active, as the gateway's cluster client reads the membership table in Redis.
        var status = await WaitForAsync(http, s => s.GetProperty("activeSilos").GetInt32() == 2, "both silos active");
        Assert.Equal("redis", status.GetProperty("mode").GetString());
        Assert.Equal("client", status.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("self").ValueKind);
        Assert.True(status.GetProperty("store").GetProperty("reachable").GetBoolean());
        var silos = status.GetProperty("silos").EnumerateArray().ToList();
        Assert.Equal(cluster.Silos.Select(s => s.Address.ToString()).Order(), silos.Select(s => s.GetProperty("silo").GetString()).Order());
        Assert.All(silos, s =>
        {
            Assert.Equal("Active", s.GetProperty("status").GetString());
            Assert.Equal(Environment.MachineName, s.GetProperty("hostName").GetString());
            Assert.InRange(s.GetProperty("heartbeatAgeSeconds").GetDouble(), 0, 5); // heartbeats every 100 ms here
        });
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("conduit_cluster_silos{status=\"active\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("conduit_cluster_silos{status=\"dead\"} 0", metrics, StringComparison.Ordinal);
        Assert.Contains("conduit_cluster_store_reachable 1", metrics, StringComparison.Ordinal);
        var health = await HealthAsync(http);
        Assert.True(health.Cluster.GetProperty("storeReachable").GetBoolean());
        Assert.Equal(2, health.Cluster.GetProperty("activeSilos").GetInt32());

        // Redis stops: the table cannot be read. Existing activations keep serving, but new agents cannot be activated,
        // so the gateway is degraded (or worse), and the page says since when.
        await redis.StopAsync();
        status = await WaitForAsync(http, s => !s.GetProperty("store").GetProperty("reachable").GetBoolean(), "the store unreachable");
        Assert.Equal(JsonValueKind.String, status.GetProperty("store").GetProperty("unreachableSince").ValueKind);
        Assert.Equal(2, status.GetProperty("activeSilos").GetInt32()); // the last view it read
        health = await HealthAsync(http);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.Code);
        Assert.NotEqual("healthy", health.Status);
        Assert.False(health.Cluster.GetProperty("storeReachable").GetBoolean());
        Assert.Contains("conduit_cluster_store_reachable 0", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
        var dom = await HeadlessChromium.DumpDomAsync(new Uri(gateway.BaseUri, "dashboard"), TimeSpan.FromSeconds(5));
        Assert.Matches(new Regex("<div class=\"sub store-down\" id=\"cluster-summary\">redis \\(cluster [^)]+\\), 2 active of 2; membership store UNREACHABLE since [^<]+</div>"), dom);
        Assert.Equal(2, Regex.Matches(dom, "<span class=\"badge Active\">Active</span>").Count);
        // What cannot be read now is named, and the rest is still drawn: the quota grain was never called from this
        // gateway, and without the directory it cannot be found (503, not 500).
        Assert.Matches(new Regex("<div id=\"error\">Could not refresh: /api/usage/tenants answered 503 \\(the quota grain cannot be reached right now"), dom);

        // Back, empty: every silo writes its row again, and the view is whole.
        await redis.StartAsync(keepData: false);
        status = await WaitForAsync(
            http,
            s => s.GetProperty("store").GetProperty("reachable").GetBoolean() && s.GetProperty("activeSilos").GetInt32() == 2,
            "the store reachable again with both silos");
        Assert.Equal(JsonValueKind.Null, status.GetProperty("store").GetProperty("unreachableSince").ValueKind);

        // A silo killed: the other declares it dead, and says so in its row.
        var (survivor, victim) = (cluster.Silos[0], cluster.Silos[1]);
        await victim.KillAsync();
        status = await WaitForAsync(
            http,
            s => s.GetProperty("silos").EnumerateArray().Any(m => m.GetProperty("silo").GetString() == victim.Address.ToString() && m.GetProperty("status").GetString() == "Dead"),
            "the killed silo declared dead");
        var dead = status.GetProperty("silos").EnumerateArray().Single(m => m.GetProperty("silo").GetString() == victim.Address.ToString());
        Assert.Equal(survivor.Address.ToString(), dead.GetProperty("declaredDeadBy").GetString());
        Assert.Equal(JsonValueKind.Null, dead.GetProperty("heartbeatAgeSeconds").ValueKind);
        Assert.Equal(1, status.GetProperty("activeSilos").GetInt32());
        Assert.Equal(survivor.Address.ToString(), status.GetProperty("silos")[0].GetProperty("silo").GetString()); // active ones first
        Assert.Contains("conduit_cluster_silos{status=\"dead\"} 1", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClusterStatus_StaticSiloList_ShowsWhichConfiguredSilosAnswer()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var cluster = await TestCluster.StartAsync(1, redis, configure: ClusterGateway.ProductGrains, settings: ClusterGateway.SiloSettings);
        var nobody = $"127.0.0.1:{ServerAddress.FreeLoopbackPort()}"; // nothing listens there
        await using var gateway = await ClusterGateway.StartAsync(cluster, staticSilos: [cluster.Silos[0].Address.Endpoint, nobody]);
        using var http = new HttpClient { BaseAddress = gateway.BaseUri };

        var status = await WaitForAsync(http, s => s.GetProperty("activeSilos").GetInt32() == 1, "the running silo active");

        Assert.Equal("static", status.GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("store").ValueKind); // no membership table
        var silos = status.GetProperty("silos").EnumerateArray().ToList();
        Assert.Equal(2, silos.Count);
        Assert.Equal(cluster.Silos[0].Address.ToString(), silos[0].GetProperty("silo").GetString());
        Assert.Equal("Active", silos[0].GetProperty("status").GetString());
        Assert.Equal(nobody, silos[1].GetProperty("silo").GetString());
        Assert.Equal("Unreachable", silos[1].GetProperty("status").GetString());
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("conduit_cluster_silos{status=\"active\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("conduit_cluster_silos{status=\"unreachable\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotMatch(new Regex("^conduit_cluster_store_reachable", RegexOptions.Multiline), metrics); // no sample
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient http, Func<JsonElement, bool> condition, string what)
    {
        JsonElement last = default;
        await Eventually.TrueAsync(
            async () =>
            {
                last = JsonDocument.Parse(await http.GetStringAsync("/api/cluster")).RootElement;
                return condition(last);
            },
            TimeSpan.FromSeconds(20),
            $"/api/cluster did not show {what}");
        return last;
    }

    private static async Task<(HttpStatusCode Code, string? Status, JsonElement Cluster)> HealthAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/health/websocket");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return (response.StatusCode, body.GetProperty("status").GetString(), body.GetProperty("cluster"));
    }


}
