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
    IReadOnlyList<PoolHealthView> Pools,
    string? PoolError);

/// <summary>Client sockets of this gateway.</summary>
internal sealed record ConnectionsSection(int Active, long Opened, Dictionary<string, long> Rejected, Dictionary<string, long> Closed, bool Draining);

/// <summary>Message counters of this gateway.</summary>
internal sealed record MessagesSection(long Received, long RequestsCompleted, long RequestErrors, long FramesSent, long RateLimited, long ParseErrors, long InvalidRequests, long TooBig);

/// <summary>Requests in flight and send queues.</summary>
internal sealed record QueuesSection(long InFlight, long Queued, int MaxQueuedPerSocket, int SendQueueCapacity, long SlowConsumersClosed);

/// <summary>Upstream reconnect attempts (from the pools).</summary>
internal sealed record RetriesSection(long UpstreamRetries, Dictionary<string, long> PerPool);

/// <summary>Circuit breakers (from the pools).</summary>
internal sealed record BreakerSection(int OpenBreakers, Dictionary<string, string> PerPool);
