using Conduit.Grains;
using Conduit.Grains.LoadBalancing;

namespace Conduit.Tests.Pools;

public sealed class LoadBalancingPoliciesTests
{
    private static ConnectionCandidate C(int load, ConnectionHealth health = ConnectionHealth.Healthy, int latencyMs = 10, int capacity = 64)
        => new(load, capacity, health, TimeSpan.FromMilliseconds(latencyMs));

    [Fact]
    public void LeastConnections_PicksFewestLeases_TiesByHealthThenLatency()
    {
        var policy = LoadBalancingPolicies.Create(LoadBalancingMode.LeastConnections, new Random(1));
        Assert.Equal(1, policy.Pick([C(5), C(2), C(3)]));
        Assert.Equal(1, policy.Pick([C(2, ConnectionHealth.Degraded), C(2)]));
        Assert.Equal(0, policy.Pick([C(2, latencyMs: 5), C(2, latencyMs: 50)]));
        Assert.Equal(-1, policy.Pick([]));
    }

    [Fact]
    public void RoundRobin_CyclesThroughCandidates()
    {
        var policy = LoadBalancingPolicies.Create(LoadBalancingMode.RoundRobin, new Random(1));
        var picks = Enumerable.Range(0, 6).Select(_ => policy.Pick([C(0), C(9), C(3)])).ToArray();
        Assert.Equal([0, 1, 2, 0, 1, 2], picks);
    }

    [Fact]
    public void Weighted_FollowsFreeCapacityAndHealth()
    {
        var policy = LoadBalancingPolicies.Create(LoadBalancingMode.Weighted, new Random(42));
        var counts = new int[3];
        for (var i = 0; i < 30_000; i++)
        {
            // Free capacity 60, 60 (degraded: weight / 4) and 0.
            counts[policy.Pick([C(4), C(4, ConnectionHealth.Degraded), C(64)])]++;
        }

        Assert.Equal(0, counts[2]);
        var ratio = counts[0] / (double)counts[1];
        Assert.InRange(ratio, 3.5, 4.5);
    }

    [Fact]
    public void PowerOfTwoChoices_PicksLessLoadedOfTwoDistinctDraws()
    {
        var random = new ScriptedRandom(0, 1);
        var policy = LoadBalancingPolicies.Create(LoadBalancingMode.PowerOfTwoChoices, random);

        // Draws 0 and then 1 (shifted past 0 -> index 2): loads 7 and 1, picks index 2.
        Assert.Equal(2, policy.Pick([C(7), C(0), C(1)]));
        Assert.Equal(0, policy.Pick([C(3)]));
    }

    [Fact]
    public void PowerOfTwoChoices_NeverPicksMostLoadedOfMany()
    {
        var policy = LoadBalancingPolicies.Create(LoadBalancingMode.PowerOfTwoChoices, new Random(7));
        var candidates = new[] { C(1), C(2), C(3), C(60) };
        for (var i = 0; i < 1000; i++)
        {
            Assert.NotEqual(3, policy.Pick(candidates));
        }
    }

    /// <summary>A Random that returns scripted values from Next(max).</summary>
    private sealed class ScriptedRandom(params int[] values) : Random
    {
        private int _index;

        public override int Next(int maxValue) => values[_index++ % values.Length] % maxValue;
    }
}
