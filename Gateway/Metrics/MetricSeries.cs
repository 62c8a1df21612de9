namespace Conduit.Gateway.Metrics;

/// <summary>The aggregated value of one instrument for one label set.</summary>
internal sealed class MetricSeries(string labels, double[]? bucketBounds)
{
    /// <summary>Prometheus label text without braces, e.g. <c>pool="demo"</c>.</summary>
    public string Labels { get; } = labels;

    /// <summary>Sum (counters), last value (gauges, observable instruments) or sum of samples (histograms).</summary>
    public double Value { get; set; }

    /// <summary>Histogram samples counted per bucket (not cumulative); the last slot is +Inf.</summary>
    public long[]? Buckets { get; } = bucketBounds is null ? null : new long[bucketBounds.Length + 1];

    /// <summary>Histogram sample count.</summary>
    public long Count { get; set; }
}
