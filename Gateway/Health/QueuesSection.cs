namespace Conduit.Gateway.Health;

/// <summary>Requests in flight and send queues.</summary>
internal sealed record QueuesSection(long InFlight, long Queued, int MaxQueuedPerSocket, int SendQueueCapacity, long SlowConsumersClosed);
