namespace Conduit.Grains;

/// <summary>
/// Connections a pool has drained and closed since its grain activated, by reason (<see cref="PoolInfo.Recycled"/>; the
/// metric <c>conduit_pool_connections_recycled_total{pool,reason}</c>). The routine reasons are logged at Debug only, so
/// these counts are where an operator sees them.
/// </summary>
/// <param name="Rotation">After <c>MaxRequestsPerConnection</c> requests.</param>
/// <param name="Ttl">At the end of their <c>ConnectionTtl</c>.</param>
/// <param name="Idle">Scaled down: idle beyond <c>IdleTimeout</c> above <c>MinConnections</c>.</param>
/// <param name="Unhealthy">Unhealthy by their health checks, or their breaker opened.</param>
/// <param name="SessionEnded">Session mode: the session on them ended (a session's connection is never handed on).</param>
/// <param name="SessionReclaimed">Session mode: the session's holder stopped renewing it (<c>LeaseTimeout</c>).</param>
public sealed record PoolRecycleCounts(long Rotation, long Ttl, long Idle, long Unhealthy, long SessionEnded, long SessionReclaimed)
{
    /// <summary>None.</summary>
    public static readonly PoolRecycleCounts None = new(0, 0, 0, 0, 0, 0);

    /// <summary>The counts with their metric label (the <c>reason</c> label), in a fixed order.</summary>
    public IEnumerable<(string Reason, long Count)> ByReason()
    {
        yield return ("rotation", Rotation);
        yield return ("ttl", Ttl);
        yield return ("idle", Idle);
        yield return ("unhealthy", Unhealthy);
        yield return ("session_ended", SessionEnded);
        yield return ("session_reclaimed", SessionReclaimed);
    }
}
