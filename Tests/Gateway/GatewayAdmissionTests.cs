using System.Net;
using Conduit.Runtime.Hosting;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Sockets;
using Conduit.Grains;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Gateway;

/// <summary>What is answered before the upgrade: 401, 404, 400, 429 with Retry-After; and socket permits.</summary>
public sealed class GatewayAdmissionTests
{
    [Fact]
    public async Task Upgrade_BadOrMissingKey_401()
    {
        await using var host = await GatewayTestHost.StartAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.TryUpgradeAsync(null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.TryUpgradeAsync("wrong-key")).Status);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await host.TryUpgradeAsync(GatewayTestHost.FreeKey)).Status);
    }

    [Fact]
    public async Task Upgrade_ClientRetryingWithABadKey_LogsTheRefusalOncePerTenSeconds()
    {
        // A client retrying in a loop with a bad key (or a fleet, while the cluster cannot admit anyone) must not write a
        // log line per attempt: the first is written, the rest are counted in /metrics.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await GatewayTestHost.StartAsync(time: clock);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await host.TryUpgradeAsync("wrong-key")).Status);
        }

        Assert.Single(host.Log.Entries, e => e.Message.StartsWith("Refused a WebSocket upgrade with 401", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await host.TryUpgradeAsync(GatewayTestHost.FreeKey, pool: "nope")).Status);
        Assert.Single(host.Log.Entries, e => e.Message.StartsWith("Refused a WebSocket upgrade with 404", StringComparison.Ordinal)); // another kind
        Assert.Equal(20, host.App.Services.GetRequiredService<GatewayMetrics>().RejectedFor("unauthorized"));

        clock.Advance(RepeatedLogs.Interval);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.TryUpgradeAsync("wrong-key")).Status);

        Assert.Equal(2, host.Log.Entries.Count(e => e.Message.StartsWith("Refused a WebSocket upgrade with 401", StringComparison.Ordinal)));
        Assert.Contains(host.Log.Entries, e => e.Message == "19 more log entries of the kind 'upgrade refused: unauthorized' were left out in the last 10 s (one per 10 s is written)");
    }

    [Fact]
    public async Task Upgrade_UnknownPool_404()
    {
        await using var host = await GatewayTestHost.StartAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await host.TryUpgradeAsync(GatewayTestHost.FreeKey, pool: "nope")).Status);
    }

    [Fact]
    public async Task Upgrade_InvalidAgentId_400()
    {
        await using var host = await GatewayTestHost.StartAsync();

        Assert.Equal(HttpStatusCode.BadRequest, (await host.TryUpgradeAsync(GatewayTestHost.FreeKey, agent: "other-tenant/agent")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.TryUpgradeAsync(GatewayTestHost.FreeKey, agent: new string('a', 65))).Status);
    }

    [Fact]
    public async Task Upgrade_FourthSocketOfFreeTenant_429WithRetryAfter_OtherTenantsUnaffected()
    {
        await using var host = await GatewayTestHost.StartAsync();
        var open = new List<TestWebSocketClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                open.Add(await host.ConnectAsync(GatewayTestHost.FreeKey));
            }

            var (status, retryAfter) = await host.TryUpgradeAsync(GatewayTestHost.FreeKey);

            Assert.Equal(HttpStatusCode.TooManyRequests, status);
            Assert.Equal(TimeSpan.FromSeconds(5), retryAfter?.Delta);
            Assert.Equal(HttpStatusCode.SwitchingProtocols, (await host.TryUpgradeAsync(GatewayTestHost.Free2Key)).Status);
            Assert.Equal(HttpStatusCode.SwitchingProtocols, (await host.TryUpgradeAsync(GatewayTestHost.BigKey)).Status);

            // Closing one socket frees its permit.
            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await Eventually.TrueAsync(() => host.App.Services.GetRequiredService<SessionRegistry>().Count == 2);
            await Eventually.TrueAsync(async () => (await host.TryUpgradeAsync(GatewayTestHost.FreeKey)).Status == HttpStatusCode.SwitchingProtocols);
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Permits_OfAGatewayThatDied_Expire_LiveGatewayKeepsItsOwn()
    {
        await using var host = await GatewayTestHost.StartAsync(new()
        {
            // Renewed every 200 ms, a permit outlives a stall of the test machine of up to 2.8 s (with a 1 s TTL a slow
            // moment could expire the dead gateway's permits before the first assertion, or the live socket's).
            ["Quotas:PermitTtl"] = "00:00:03",
            ["Gateway:PermitRenewInterval"] = "00:00:00.200",
        });
        var quota = host.Grains.GetGrain<IQuotaGrain>(QuotaGrainKeys.Global);

        // Another gateway admits two sockets of free1, then dies (never renews).
        Assert.True((await quota.AcquireSocket(new("free1", "dead-gateway", "d1"))).Granted);
        Assert.True((await quota.AcquireSocket(new("free1", "dead-gateway", "d2"))).Granted);
        await using var live = await host.ConnectAsync(GatewayTestHost.FreeKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await host.TryUpgradeAsync(GatewayTestHost.FreeKey)).Status);

        // After the TTL the dead gateway's permits are gone; the live socket's permit was renewed and still counts.
        await Eventually.TrueAsync(async () => (await host.TryUpgradeAsync(GatewayTestHost.FreeKey)).Status == HttpStatusCode.SwitchingProtocols, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // past another TTL: only renewals keep a permit
        var usage = (await quota.GetUsage()).Single(u => u.Tenant == "free1");
        Assert.Equal(1, usage.Sockets);
        await live.SendAsync(JsonAssert.Request(1, "ping"));
        Assert.Equal("\"pong\"", JsonAssert.Parse(await live.ReceiveAsync()).GetProperty("result").GetRawText());
    }
}
