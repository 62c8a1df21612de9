using Conduit.Grains.Health;
using Conduit.Grains.Pools;
using Conduit.Tests.Infrastructure;
using Polly.CircuitBreaker;

namespace Conduit.Tests.Pools;

public sealed class CircuitBreakerTests
{
    private static PoolOptions Options() => new() { BreakerMinimumThroughput = 4, BreakerFailureRatio = 0.5, BreakDuration = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task RecordAsync_RepeatedFailures_OpensAndRejects()
    {
        var clock = new FakeTimeProvider();
        var breaker = new CircuitBreaker(Options(), clock);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await breaker.RecordAsync(false));
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.True(breaker.IsRejecting);
        Assert.Equal(TimeSpan.FromSeconds(60), breaker.RetryAfter);
        Assert.False(await breaker.RecordAsync(true));
        Assert.Equal(1, breaker.Opened);
    }

    [Fact]
    public async Task RecordAsync_AfterBreak_HalfOpenProbeClosesOrReopens()
    {
        var clock = new FakeTimeProvider();
        var breaker = new CircuitBreaker(Options(), clock);
        for (var i = 0; i < 4; i++)
        {
            await breaker.RecordAsync(false);
        }

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.False(breaker.IsRejecting);
        Assert.True(await breaker.RecordAsync(false));
        Assert.True(breaker.IsRejecting);
        Assert.Equal(2, breaker.Opened);

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.True(await breaker.RecordAsync(true));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task RecordAsync_MostlySuccesses_StaysClosed()
    {
        var breaker = new CircuitBreaker(Options(), new FakeTimeProvider());
        for (var i = 0; i < 20; i++)
        {
            await breaker.RecordAsync(i % 4 != 0);
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
    }
}
