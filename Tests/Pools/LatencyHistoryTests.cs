using Conduit.Grains;
using Conduit.Grains.Health;

namespace Conduit.Tests.Pools;

public sealed class LatencyHistoryTests
{
    private static LatencyHistory With(params int[] ms)
    {
        var history = new LatencyHistory();
        foreach (var m in ms)
        {
            history.Add(TimeSpan.FromMilliseconds(m));
        }

        return history;
    }

    [Fact]
    public void Trend_FewSamples_Stable() => Assert.Equal(LatencyTrend.Stable, With(10, 500, 900).Trend);

    [Fact]
    public void Trend_RisingLatency_Degrading() => Assert.Equal(LatencyTrend.Degrading, With(10, 12, 11, 40, 60, 80).Trend);

    [Fact]
    public void Trend_FallingLatency_Improving() => Assert.Equal(LatencyTrend.Improving, With(90, 80, 70, 20, 10, 12).Trend);

    [Fact]
    public void Trend_Noise_Stable() => Assert.Equal(LatencyTrend.Stable, With(10, 11, 10, 11, 10, 11).Trend);

    [Fact]
    public void Add_BeyondCapacity_KeepsNewest()
    {
        var history = new LatencyHistory(capacity: 3);
        foreach (var ms in new[] { 100, 100, 100, 1, 2, 3 })
        {
            history.Add(TimeSpan.FromMilliseconds(ms));
        }

        Assert.Equal(3, history.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(2), history.Mean);
        Assert.Equal(TimeSpan.FromMilliseconds(3), history.Last);
    }
}
