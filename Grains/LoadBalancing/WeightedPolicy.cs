namespace Conduit.Grains.LoadBalancing;

/// <summary>
/// At random, in proportion to free capacity times a health weight (healthy 4, degraded 1), so that
/// emptier and healthier connections take more of the new leases without starving the others.
/// </summary>
internal sealed class WeightedPolicy(Random random) : ILoadBalancingPolicy
{
    /// <summary>Weight of a healthy connection relative to a degraded one.</summary>
    public const int HealthyWeight = 4;

    /// <inheritdoc />
    public LoadBalancingMode Mode => LoadBalancingMode.Weighted;

    /// <inheritdoc />
    public int Pick(IReadOnlyList<ConnectionCandidate> candidates)
    {
        if (candidates.Count == 0)
        {
            return -1;
        }

        long total = 0;
        foreach (var c in candidates)
        {
            total += WeightOf(c);
        }

        if (total <= 0)
        {
            return 0;
        }

        var point = random.NextInt64(total);
        for (var i = 0; i < candidates.Count; i++)
        {
            point -= WeightOf(candidates[i]);
            if (point < 0)
            {
                return i;
            }
        }

        return candidates.Count - 1;
    }

    private static long WeightOf(ConnectionCandidate c)
        => (long)Math.Max(0, c.Free) * (c.Health == ConnectionHealth.Healthy ? HealthyWeight : 1);
}
