namespace Conduit.Grains.Pools;

/// <summary>An acquirer waiting in the pool's FIFO queue.</summary>
internal sealed class PoolWaiter(LeaseRequest request, long enqueuedAt)
{
    /// <summary>Who waits.</summary>
    public LeaseRequest Request { get; } = request;

    /// <summary>Timestamp (of the pool's TimeProvider) when it started waiting.</summary>
    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>Completed with the grant, or with an error result when the pool gives up on it.</summary>
    public TaskCompletionSource<LeaseResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
