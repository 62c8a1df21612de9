namespace Conduit.Grains;

/// <summary>Direction of a connection's latency over its last samples.</summary>
public enum LatencyTrend
{
    /// <summary>Too few samples, or no clear change.</summary>
    Stable,

    /// <summary>Recent samples are clearly faster than older ones.</summary>
    Improving,

    /// <summary>Recent samples are clearly slower than older ones.</summary>
    Degrading,
}
