namespace Conduit.Grains.Health;

/// <summary>
/// The last <c>capacity</c> latency samples of a connection and their trend: the mean of the newer
/// half against the mean of the older half; more than <c>threshold</c> (relative) slower is
/// degrading, faster is improving. Needs at least four samples. Owned by one grain (no lock).
/// </summary>
internal sealed class LatencyHistory(int capacity = 10, double threshold = 0.25)
{
    private readonly Queue<TimeSpan> _samples = new();

    /// <summary>Samples held.</summary>
    public int Count => _samples.Count;

    /// <summary>The newest sample, or zero.</summary>
    public TimeSpan Last { get; private set; }

    /// <summary>Mean of the held samples, or zero.</summary>
    public TimeSpan Mean => _samples.Count == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)_samples.Average(s => s.Ticks));

    /// <summary>Adds a sample, dropping the oldest beyond the capacity.</summary>
    public void Add(TimeSpan latency)
    {
        _samples.Enqueue(latency);
        Last = latency;
        while (_samples.Count > capacity)
        {
            _samples.Dequeue();
        }
    }

    /// <summary>The trend of the held samples.</summary>
    public LatencyTrend Trend
    {
        get
        {
            if (_samples.Count < 4)
            {
                return LatencyTrend.Stable;
            }

            var all = _samples.ToArray();
            var half = all.Length / 2;
            var older = all.Take(half).Average(s => (double)s.Ticks);
            var newer = all.Skip(all.Length - half).Average(s => (double)s.Ticks);
            if (newer > older * (1 + threshold) && newer - older > TimeSpan.TicksPerMillisecond)
            {
                return LatencyTrend.Degrading;
            }

            if (newer < older * (1 - threshold) && older - newer > TimeSpan.TicksPerMillisecond)
            {
                return LatencyTrend.Improving;
            }

            return LatencyTrend.Stable;
        }
    }
}
