namespace Conduit.Grains.LoadBalancing;

/// <summary>A connection that could take a new lease, as a load-balancing policy sees it.</summary>
/// <param name="Load">Leases held on it now.</param>
/// <param name="Capacity">Leases it can hold (Load is below it).</param>
/// <param name="Health">Healthy or degraded (unhealthy connections are never candidates).</param>
/// <param name="Latency">Its last measured latency.</param>
public readonly record struct ConnectionCandidate(int Load, int Capacity, ConnectionHealth Health, TimeSpan Latency)
{
    /// <summary>Leases it can still take.</summary>
    public int Free => Capacity - Load;
}
