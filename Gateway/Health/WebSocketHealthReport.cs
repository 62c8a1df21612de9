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

/// <summary>Upstream connections being (re)connected with backoff, from the pools.</summary>
internal sealed record RetriesSection(int Reconnecting, Dictionary<string, int> PerPool);

/// <summary>Pool circuit breakers not closed (open, half-open or isolated), from the pools.</summary>
internal sealed record BreakerSection(int Open, Dictionary<string, string> PerPool);
