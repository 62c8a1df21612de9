namespace Conduit.Grains.LoadBalancing;

/// <summary>Creates the policy for a <see cref="LoadBalancingMode"/>.</summary>
internal static class LoadBalancingPolicies
{
    /// <summary>A new policy instance (round-robin keeps a counter, so one per pool).</summary>
    public static ILoadBalancingPolicy Create(LoadBalancingMode mode, Random random) => mode switch
    {
        LoadBalancingMode.LeastConnections => new LeastConnectionsPolicy(),
        LoadBalancingMode.RoundRobin => new RoundRobinPolicy(),
        LoadBalancingMode.Weighted => new WeightedPolicy(random),
        LoadBalancingMode.PowerOfTwoChoices => new PowerOfTwoChoicesPolicy(random),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown load-balancing mode."),
    };
}
