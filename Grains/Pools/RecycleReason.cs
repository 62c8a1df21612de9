namespace Conduit.Grains.Pools;

/// <summary>Why the pool drains a connection (<see cref="PoolRecycleCounts"/>).</summary>
internal enum RecycleReason
{
    Rotation,
    Ttl,
    Idle,
    Unhealthy,
    SessionEnded,
    SessionReclaimed,
}
