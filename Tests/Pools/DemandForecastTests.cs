using Conduit.Grains.Pools;

namespace Conduit.Tests.Pools;

public sealed class DemandForecastTests
{
    [Fact]
    public void Observe_RisingDemand_ForecastAheadOfLevel()
    {
        var forecast = new DemandForecast(smoothing: 0.5, headroom: 0);
        foreach (var demand in new[] { 0, 10, 20, 30, 40, 50 })
        {
            forecast.Observe(demand);
        }

        Assert.True(forecast.Trend > 0);
        Assert.True(forecast.Forecast > forecast.Level);
    }

    [Fact]
    public void ConnectionsNeeded_ClampsBetweenMinAndMax()
    {
        var forecast = new DemandForecast(smoothing: 1, headroom: 0.25);
        forecast.Observe(0);
        Assert.Equal(2, forecast.ConnectionsNeeded(64, min: 2, max: 10));
        forecast.Observe(200);
        forecast.Observe(400);
        Assert.Equal(10, forecast.ConnectionsNeeded(64, min: 2, max: 10));
    }

    [Fact]
    public void ConnectionsNeeded_SteadyDemand_CapacityPlusHeadroom()
    {
        var forecast = new DemandForecast(smoothing: 0.3, headroom: 0.25);
        for (var i = 0; i < 50; i++)
        {
            forecast.Observe(100);
        }

        // 100 * 1.25 = 125 leases over 64 per connection = 2 connections.
        Assert.Equal(2, forecast.ConnectionsNeeded(64, min: 1, max: 10));
        Assert.InRange(forecast.Level, 99.9, 100.1);
    }

    [Fact]
    public void Observe_FallingDemand_TrendNegativeForecastNotBelowZero()
    {
        var forecast = new DemandForecast(smoothing: 0.5, headroom: 0);
        foreach (var demand in new[] { 100, 50, 0, 0 })
        {
            forecast.Observe(demand);
        }

        Assert.True(forecast.Trend < 0);
        Assert.True(forecast.Forecast >= 0);
    }
}
