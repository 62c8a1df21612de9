namespace Conduit.Grains.LoadBalancing;

/// <summary>How the pool picks a connection for a new lease.</summary>
public enum LoadBalancingMode
{
    /// <summary>The connection with the fewest leases (ties: the lowest latency). The default.</summary>
    LeastConnections,

    /// <summary>The next connection in turn that has room.</summary>
    RoundRobin,

    /// <summary>At random, weighted by free capacity times a health weight (degraded counts a quarter).</summary>
    Weighted,

    /// <summary>Two connections at random, the less loaded of them.</summary>
    PowerOfTwoChoices,
}
