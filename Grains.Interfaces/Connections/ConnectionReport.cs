namespace Conduit.Grains;

/// <summary>What a connection grain tells its pool: after connect attempts, on state or health changes, and every health check.</summary>
/// <param name="Connection">The connection grain key, "{pool}/{n}".</param>
/// <param name="State">Its state now.</param>
/// <param name="Health">Its health now.</param>
/// <param name="Trend">Its latency trend.</param>
/// <param name="LatencyMs">Its last measured latency.</param>
/// <param name="InFlight">Requests waiting for the upstream.</param>
/// <param name="Requests">Requests sent on the current socket.</param>
/// <param name="ConnectAttempt">Null, or the outcome of a connect attempt that this report follows (fed to the pool breaker).</param>
/// <param name="RotationDue">Whether it has served MaxRequestsPerConnection and asks to be rotated.</param>
/// <param name="SessionAttached">Whether an agent's session is attached to it (session mode).</param>
public sealed record ConnectionReport(
    string Connection,
    ConnectionState State,
    ConnectionHealth Health,
    LatencyTrend Trend,
    double LatencyMs,
    int InFlight,
    long Requests,
    bool? ConnectAttempt,
    bool RotationDue,
    bool SessionAttached = false);
