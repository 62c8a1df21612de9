using Conduit.Gateway.Pools;

namespace Conduit.Gateway.Health;

/// <summary>The /health/websocket document.</summary>
internal sealed record WebSocketHealthReport(
    string Status,
    ConnectionsSection Connections,
    MessagesSection Messages,
    QueuesSection Queues,
    RetriesSection Retries,
    BreakerSection Breaker,
    ClusterSection Cluster,
    IReadOnlyList<PoolHealthView> Pools,
    string? PoolError);
