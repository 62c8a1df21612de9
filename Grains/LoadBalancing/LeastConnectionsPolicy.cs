namespace Conduit.Grains.LoadBalancing;

/// <summary>The candidate with the fewest leases; among equals, the healthier, then the faster one.</summary>
internal sealed class LeastConnectionsPolicy : ILoadBalancingPolicy
{
    /// <inheritdoc />
    public LoadBalancingMode Mode => LoadBalancingMode.LeastConnections;

    /// <inheritdoc />
    public int Pick(IReadOnlyList<ConnectionCandidate> candidates)
    {
        var best = -1;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (best < 0 || Better(candidates[i], candidates[best]))
            {
                best = i;
            }
        }

        return best;
    }

    private static bool Better(ConnectionCandidate a, ConnectionCandidate b)
    {
        if (a.Load != b.Load)
        {
            return a.Load < b.Load;
        }

        if (a.Health != b.Health)
        {
            return a.Health < b.Health;
        }

        return a.Latency < b.Latency;
    }
}
