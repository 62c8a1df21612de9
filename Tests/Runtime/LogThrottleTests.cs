using Conduit.Runtime.Hosting;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Runtime;

public sealed class LogThrottleTests
{
    [Fact]
    public void Admit_OnePerPeriod_TheNextOneCountsThoseHeldBack()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(time, TimeSpan.FromSeconds(10));

        Assert.True(throttle.Admit(out var first));
        Assert.Equal(0, first);
        Assert.False(throttle.Admit(out _));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(throttle.Admit(out _));
        Assert.False(throttle.Admit(out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(throttle.Admit(out var held));
        Assert.Equal(3, held);
        Assert.False(throttle.Admit(out _));
    }
}
