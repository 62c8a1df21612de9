using Conduit.Gateway.Authentication;
using Conduit.Gateway.Availability;
using Conduit.Gateway.Dashboard;
using Conduit.Gateway.Health;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Pools;
using Conduit.Gateway.Sockets;
using Conduit.Gateway.Usage;
using Conduit.Grains;
using Conduit.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway;

/// <summary>Maps the gateway's endpoints.</summary>
public static class GatewayEndpoints
{
    /// <summary>How long /metrics waits for the pool grains' state before it answers without the conduit_pool_* series.</summary>
    private static readonly TimeSpan PoolReadTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Maps <c>/ws/{pool}</c>, <c>/health/live</c>, <c>/health/ready</c>, <c>/health/websocket</c>, <c>/metrics</c>,
    /// <c>/api/cluster</c>, <c>/api/usage/tenants</c> and <c>/api/usage/pools</c> (the operator endpoints behind the admin key, or loopback
    /// only without one: see <see cref="AdminAccess"/>). Needs <see cref="GatewayServiceCollectionExtensions.AddConduitGateway"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapConduitGateway(this IEndpointRouteBuilder endpoints)
    {
        // The exporter must listen before the first measurement (histograms are not read back later).
        endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        var pipeline = endpoints.CreateApplicationBuilder().UseWebSockets();
        pipeline.Run(context => context.RequestServices.GetRequiredService<WebSocketEndpoint>()
            .HandleAsync(context, (string)context.Request.RouteValues["pool"]!));
        var webSockets = pipeline.Build();
        endpoints.Map("/ws/{pool}", webSockets).WithDisplayName("Conduit WebSocket gateway");

        endpoints.MapConduitDashboard().RequireAdmin();
        endpoints.MapGet("/health/live", () => Results.Json(new { status = "live" }));
        endpoints.MapGet("/health/ready", async (HealthReporter health, CancellationToken ct) =>
        {
            var (ready, detail) = await health.ReadyAsync(ct);
            return Results.Json(new { status = ready ? "ready" : "unavailable", detail }, statusCode: ready ? 200 : 503);
        });
        endpoints.MapGet("/health/websocket", async (HealthReporter health, CancellationToken ct) =>
        {
            var report = await health.WebSocketAsync(ct);
            return Results.Json(report, statusCode: report.Status == "healthy" ? 200 : 503);
        });
        endpoints.MapGet("/metrics", async (PrometheusExporter exporter, GatewayMetrics metrics, IPoolHealthSource pools, CancellationToken ct) =>
        {
            try
            {
                metrics.PoolHealth = await pools.GetAsync(ct).WaitAsync(PoolReadTimeout, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                metrics.PoolHealth = []; // the pool grains cannot be read now: no conduit_pool_* series rather than stale ones
            }

            return Results.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8");
        }).RequireAdmin();
        endpoints.MapGet("/api/cluster", (IClusterStatus cluster) => Results.Json(cluster.GetStatus())).RequireAdmin();
        endpoints.MapGet("/api/usage/tenants", async (IGrainFactory grains, IOptions<GatewayOptions> options, HttpContext context) =>
        {
            try
            {
                return Results.Json(await grains.GetGrain<IQuotaGrain>(QuotaGrainKeys.Global).GetUsage());
            }
            catch (Exception ex) when (ClusterFailures.IsUnavailable(ex))
            {
                // The quota grain is out of reach for now (its silo crashed and is not yet declared dead, or Redis is down
                // and this gateway has not called it before): a state of the cluster, not an error of this endpoint.
                RetryAfter.Set(context.Response, options.Value.UnavailableRetryAfter);
                return Results.Json(new { error = "the quota grain cannot be reached right now: " + ex.Message }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).RequireAdmin();
        endpoints.MapGet("/api/usage/pools", async (GatewayMetrics metrics, IPoolHealthSource poolHealth, CancellationToken ct) =>
        {
            IReadOnlyList<PoolHealthView> health;
            try
            {
                health = await poolHealth.GetAsync(ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                health = [];
            }

            var names = metrics.Pools.Keys.Union(health.Select(h => h.Pool), StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal);
            return Results.Json(names.Select(name =>
            {
                var t = metrics.ForPool(name);
                return new PoolUsage(
                    name,
                    Volatile.Read(ref t.ActiveSockets),
                    Volatile.Read(ref t.OpenedSockets),
                    Volatile.Read(ref t.MessagesReceived),
                    Volatile.Read(ref t.RequestsCompleted),
                    Volatile.Read(ref t.RequestErrors),
                    Volatile.Read(ref t.InFlight),
                    health.FirstOrDefault(h => h.Pool == name));
            }).ToList());
        }).RequireAdmin();
        return endpoints;
    }
}
