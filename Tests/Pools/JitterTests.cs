using Conduit.Grains.Connections;

namespace Conduit.Tests.Pools;

public sealed class JitterTests
{
    [Fact]
    public void Ttl_StaysWithinFractionAndSpreads()
    {
        var random = new Random(3);
        var ttl = TimeSpan.FromMinutes(30);
        var values = Enumerable.Range(0, 1000).Select(_ => Jitter.Ttl(ttl, 0.1, random)).ToList();
        Assert.All(values, v => Assert.InRange(v, TimeSpan.FromMinutes(27), TimeSpan.FromMinutes(33)));
        Assert.True(values.Max() - values.Min() > TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void Backoff_GrowsExponentiallyWithinBounds()
    {
        var random = new Random(5);
        var baseDelay = TimeSpan.FromMilliseconds(100);
        var max = TimeSpan.FromSeconds(30);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var ceiling = TimeSpan.FromTicks((long)Math.Min(max.Ticks, baseDelay.Ticks * Math.Pow(2, attempt)));
            for (var i = 0; i < 50; i++)
            {
                var d = Jitter.Backoff(attempt, baseDelay, max, random);
                Assert.InRange(d, ceiling / 2, ceiling);
            }
        }

        Assert.True(Jitter.Backoff(100, baseDelay, max, random) <= max);
    }
}
