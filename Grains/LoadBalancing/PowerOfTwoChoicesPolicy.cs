namespace Conduit.Grains.LoadBalancing;

/// <summary>Two distinct candidates at random, the one with fewer leases (ties: the first drawn).</summary>
internal sealed class PowerOfTwoChoicesPolicy(Random random) : ILoadBalancingPolicy
{
    /// <inheritdoc />
    public LoadBalancingMode Mode => LoadBalancingMode.PowerOfTwoChoices;

    /// <inheritdoc />
    public int Pick(IReadOnlyList<ConnectionCandidate> candidates)
    {
        switch (candidates.Count)
        {
            case 0:
                return -1;
            case 1:
                return 0;
        }

        var first = random.Next(candidates.Count);
        var second = random.Next(candidates.Count - 1);
        if (second >= first)
        {
            second++;
        }

        return candidates[second].Load < candidates[first].Load ? second : first;
    }
}
