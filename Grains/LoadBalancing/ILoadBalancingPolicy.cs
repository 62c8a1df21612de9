namespace Conduit.Grains.LoadBalancing;

/// <summary>Chooses the connection for a new lease.</summary>
public interface ILoadBalancingPolicy
{
    /// <summary>The policy's mode.</summary>
    LoadBalancingMode Mode { get; }

    /// <summary>Returns the position in <paramref name="candidates"/> to lease, or -1 when the list is empty.</summary>
    int Pick(IReadOnlyList<ConnectionCandidate> candidates);
}
