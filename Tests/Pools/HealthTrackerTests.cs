using Conduit.Grains;
using Conduit.Grains.Health;

namespace Conduit.Tests.Pools;

public sealed class HealthTrackerTests
{
    private static HealthTracker Create() => new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), failureThreshold: 3, successThreshold: 2);

    [Theory]
    [InlineData(0, ConnectionHealth.Healthy)]
    [InlineData(1000, ConnectionHealth.Healthy)]
    [InlineData(1001, ConnectionHealth.Degraded)]
    [InlineData(3000, ConnectionHealth.Degraded)]
    [InlineData(3001, ConnectionHealth.Unhealthy)]
    public void Classify_LatencyClasses(int ms, ConnectionHealth expected)
        => Assert.Equal(expected, Create().Classify(TimeSpan.FromMilliseconds(ms)));

    [Fact]
    public void Classify_FailedCheck_Unhealthy() => Assert.Equal(ConnectionHealth.Unhealthy, Create().Classify(null));

    [Fact]
    public void Record_SlowThenFailing_DegradedThenUnhealthyAfterThreshold()
    {
        var tracker = Create();
        Assert.True(tracker.Record(TimeSpan.FromSeconds(2)));
        Assert.Equal(ConnectionHealth.Degraded, tracker.Health);
        Assert.False(tracker.Record(null));
        Assert.False(tracker.Record(TimeSpan.FromSeconds(5)));
        Assert.Equal(ConnectionHealth.Degraded, tracker.Health);
        Assert.True(tracker.Record(null));
        Assert.Equal(ConnectionHealth.Unhealthy, tracker.Health);
    }

    [Fact]
    public void Record_UnhealthyThenGood_NeedsSuccessThreshold()
    {
        var tracker = Create();
        tracker.Record(null);
        tracker.Record(null);
        tracker.Record(null);
        Assert.False(tracker.Record(TimeSpan.FromMilliseconds(10)));
        Assert.Equal(ConnectionHealth.Unhealthy, tracker.Health);
        Assert.True(tracker.Record(TimeSpan.FromMilliseconds(10)));
        Assert.Equal(ConnectionHealth.Healthy, tracker.Health);
    }

    [Fact]
    public void Record_FailuresInterruptedBySuccess_CountRestarts()
    {
        var tracker = Create();
        tracker.Record(null);
        tracker.Record(null);
        tracker.Record(TimeSpan.FromMilliseconds(1));
        tracker.Record(null);
        tracker.Record(null);
        Assert.Equal(ConnectionHealth.Healthy, tracker.Health);
        Assert.Equal(2, tracker.ConsecutiveFailures);
    }
}
