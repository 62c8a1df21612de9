namespace Conduit.Grains.LoadBalancing;

/// <summary>The candidates in turn. Used from one grain turn at a time, so the counter needs no lock.</summary>
internal sealed class RoundRobinPolicy : ILoadBalancingPolicy
{
    private uint _next;

    /// <inheritdoc />
    public LoadBalancingMode Mode => LoadBalancingMode.RoundRobin;

    /// <inheritdoc />
    public int Pick(IReadOnlyList<ConnectionCandidate> candidates)
    {
        if (candidates.Count == 0)
        {
            return -1;
        }

        return (int)(_next++ % (uint)candidates.Count);
    }
}
