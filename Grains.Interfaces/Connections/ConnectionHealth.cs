namespace Conduit.Grains;

/// <summary>Health class of an upstream connection (DESIGN section 5: healthy up to 1 s, degraded up to 3 s).</summary>
public enum ConnectionHealth
{
    /// <summary>Checks answer within the healthy latency.</summary>
    Healthy,

    /// <summary>Checks answer, but slowly; still leased, with less weight.</summary>
    Degraded,

    /// <summary>Consecutive checks were too slow or failed; no new leases, the connection is recycled.</summary>
    Unhealthy,
}
