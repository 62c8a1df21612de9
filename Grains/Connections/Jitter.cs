namespace Conduit.Grains.Connections;

/// <summary>Randomised delays: TTLs that do not expire together and reconnect backoff.</summary>
internal static class Jitter
{
    /// <summary><paramref name="ttl"/> scaled by a uniform factor in [1 - fraction, 1 + fraction].</summary>
    public static TimeSpan Ttl(TimeSpan ttl, double fraction, Random random)
    {
        var factor = 1 + (((random.NextDouble() * 2) - 1) * fraction);
        return TimeSpan.FromTicks((long)(ttl.Ticks * factor));
    }

    /// <summary>
    /// Delay before reconnect attempt <paramref name="attempt"/> (0 = first): exponential from
    /// <paramref name="baseDelay"/>, capped at <paramref name="maxDelay"/>, with "equal jitter"
    /// (half fixed, half random) so that many connections do not retry in step.
    /// </summary>
    public static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, Random random)
    {
        var exponent = Math.Min(attempt, 30);
        var ceiling = Math.Min(maxDelay.Ticks, baseDelay.Ticks * Math.Pow(2, exponent));
        var delay = (ceiling / 2) + (random.NextDouble() * ceiling / 2);
        return TimeSpan.FromTicks((long)Math.Clamp(delay, baseDelay.Ticks / 2.0, maxDelay.Ticks));
    }
}
