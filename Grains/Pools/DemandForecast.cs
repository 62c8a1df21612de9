namespace Conduit.Grains.Pools;

/// <summary>
/// Demand for leases smoothed over the pool's maintenance ticks (Holt's double exponential
/// smoothing: a moving average and a trend), and the connections needed to meet the forecast a
/// few ticks ahead with some headroom. Owned by the pool grain (no lock).
/// </summary>
internal sealed class DemandForecast(double smoothing, double headroom, int horizonTicks = 3)
{
    private bool _started;

    /// <summary>Smoothed demand (leases in use plus waiters).</summary>
    public double Level { get; private set; }

    /// <summary>Smoothed change of demand per tick.</summary>
    public double Trend { get; private set; }

    /// <summary>Expected demand <c>horizonTicks</c> ahead, never negative.</summary>
    public double Forecast => Math.Max(0, Level + (Trend * horizonTicks));

    /// <summary>Records the demand seen at one tick.</summary>
    public void Observe(double demand)
    {
        if (!_started)
        {
            Level = demand;
            Trend = 0;
            _started = true;
            return;
        }

        var previous = Level;
        Level = (smoothing * demand) + ((1 - smoothing) * (Level + Trend));
        Trend = (smoothing * (Level - previous)) + ((1 - smoothing) * Trend);
    }

    /// <summary>Connections needed for the forecast plus headroom, clamped to [min, max].</summary>
    public int ConnectionsNeeded(int capacityPerConnection, int min, int max)
    {
        var demand = Math.Max(Forecast, Level) * (1 + headroom);
        var needed = (int)Math.Ceiling(demand / Math.Max(1, capacityPerConnection));
        return Math.Clamp(needed, min, max);
    }
}
