using Conduit.Gateway.Metrics;
using Conduit.Gateway.Pools;
using Conduit.Gateway.Sockets;
using Conduit.Grains;
using Conduit.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Health;

/// <summary>Builds the /health/* answers from the gateway's counters, its sessions and the pools' health.</summary>
internal sealed partial class HealthReporter(
    GatewayMetrics metrics,
    SessionRegistry sessions,
    IPoolHealthSource poolHealth,
    IGrainFactory grains,
    IClusterStatus cluster,
    IOptions<GatewayOptions> options,
    ILogger<HealthReporter> logger)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Ready: not draining, and the grain runtime answers (the quota grain is reachable).</summary>
    public async Task<(bool Ready, string Detail)> ReadyAsync(CancellationToken cancellationToken)
    {
        if (sessions.IsDraining)
        {
            return (false, "draining");
        }

        try
        {
            await grains.GetGrain<IQuotaGrain>(QuotaGrainKeys.Global).GetUsage().WaitAsync(ProbeTimeout, cancellationToken);
            return (true, "ready");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNotReady(ex);
            return (false, "grain runtime unreachable: " + ex.Message);
        }
    }

    /// <summary>The /health/websocket document and its status.</summary>
    public async Task<WebSocketHealthReport> WebSocketAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<PoolHealthView> pools;
        string? poolError = null;
        try
        {
            pools = await poolHealth.GetAsync(cancellationToken).WaitAsync(ProbeTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPoolHealthFailed(ex);
            pools = [];
            poolError = ex.Message;
        }

        var maxQueued = 0;
        foreach (var session in sessions.Sessions)
        {
            maxQueued = Math.Max(maxQueued, session.QueuedMessages);
        }

        // A cluster whose membership table (Redis) cannot be read serves the sockets it has, but cannot activate the
        // agents of new ones: degraded. With no active silo at all nothing is served.
        var clusterStatus = cluster.GetStatus();
        var o = options.Value;
        var status = sessions.IsDraining || poolError is not null || clusterStatus.ActiveSilos == 0 ? "unavailable"
            : pools.Any(p => p.Status == "unavailable") ? "unavailable"
            : pools.Any(p => p.Status != "healthy") || clusterStatus.Store is { Reachable: false } ? "degraded"
            : "healthy";
        return new WebSocketHealthReport(
            status,
            new ConnectionsSection(
                Active: sessions.Count,
                Opened: Volatile.Read(ref metrics.OpenedSockets),
                Rejected: GatewayMetrics.RejectReasons.ToDictionary(r => r, metrics.RejectedFor),
                Closed: metrics.ClosedByCode.ToDictionary(p => p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.Value),
                Draining: sessions.IsDraining),
            new MessagesSection(
                Received: metrics.Pools.Values.Sum(p => Volatile.Read(ref p.MessagesReceived)),
                RequestsCompleted: metrics.Pools.Values.Sum(p => Volatile.Read(ref p.RequestsCompleted)),
                RequestErrors: metrics.Pools.Values.Sum(p => Volatile.Read(ref p.RequestErrors)),
                FramesSent: Volatile.Read(ref metrics.FramesSent),
                RateLimited: Volatile.Read(ref metrics.RateLimited),
                ParseErrors: Volatile.Read(ref metrics.ParseErrors),
                InvalidRequests: Volatile.Read(ref metrics.InvalidRequests),
                TooBig: Volatile.Read(ref metrics.OversizedMessages)),
            new QueuesSection(
                InFlight: Volatile.Read(ref metrics.InFlight),
                Queued: Volatile.Read(ref metrics.QueuedMessages),
                MaxQueuedPerSocket: maxQueued,
                SendQueueCapacity: o.SendQueueCapacity,
                SlowConsumersClosed: Volatile.Read(ref metrics.SlowConsumers)),
            new RetriesSection(
                Reconnecting: pools.Sum(p => p.Reconnecting),
                PerPool: pools.ToDictionary(p => p.Pool, p => p.Reconnecting)),
            new BreakerSection(
                Open: pools.Count(p => p.Breaker != "Closed"),
                PerPool: pools.ToDictionary(p => p.Pool, p => p.Breaker)),
            new ClusterSection(
                clusterStatus.Mode,
                clusterStatus.ActiveSilos,
                clusterStatus.Silos.Count,
                clusterStatus.Store?.Reachable,
                clusterStatus.Store?.UnreachableSince),
            pools,
            poolError);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Readiness probe failed: the quota grain did not answer")]
    private partial void LogNotReady(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the pools' health")]
    private partial void LogPoolHealthFailed(Exception exception);
}
