using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Conduit.Gateway.Metrics;

/// <summary>
/// Listens to the process's "Conduit.*" meters (those of this host's <see cref="IMeterFactory"/>, and unscoped ones)
/// and to the runtime's "System.Runtime" meter, and renders them in the Prometheus text exposition format 0.0.4. Instrument names become snake case
/// ("conduit.gateway.sockets.active" -> conduit_gateway_sockets_active); counters get "_total"; a unit of "s" gets "_seconds" and one of "By" "_bytes".
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    /// <summary>The runtime's own meter (process CPU and memory, GC, thread pool, locks, exceptions), exported too.</summary>
    public const string RuntimeMeter = "System.Runtime";

    // Levels that the runtime declares as observable counters although they go down (the semantic conventions make
    // them up-down counters): exported as gauges, without "_total".
    private static readonly HashSet<string> RuntimeLevels = ["dotnet.thread_pool.queue.length", "dotnet.thread_pool.thread.count"];

    private static readonly double[] DefaultBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly object _lock = new();
    private readonly MeterListener _listener;
    private readonly IMeterFactory _meterFactory;
    private readonly Dictionary<Instrument, Dictionary<string, MetricSeries>> _series = [];

    public PrometheusExporter(IMeterFactory meterFactory)
    {
        _meterFactory = meterFactory;
        _listener = new MeterListener { InstrumentPublished = OnInstrumentPublished };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    /// <summary>Collects the observable instruments and writes every series.</summary>
    public string Scrape()
    {
        lock (_lock)
        {
            foreach (var (instrument, series) in _series)
            {
                if (instrument.IsObservable)
                {
                    series.Clear();
                }
            }
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder(4096);
        lock (_lock)
        {
            foreach (var (instrument, series) in _series.OrderBy(p => p.Key.Name, StringComparer.Ordinal))
            {
                Write(text, instrument, series.Values);
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The Prometheus name of an instrument.</summary>
    public static string MetricName(Instrument instrument)
    {
        var name = new StringBuilder(instrument.Name.Length + 8);
        foreach (var c in instrument.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        }

        // Base units in the name, as the Prometheus naming conventions ask (and OpenTelemetry's exporter does).
        if (instrument.Unit == "s" && !instrument.Name.EndsWith("seconds", StringComparison.Ordinal))
        {
            name.Append("_seconds");
        }
        else if (instrument.Unit == "By" && !instrument.Name.EndsWith("bytes", StringComparison.Ordinal))
        {
            name.Append("_bytes");
        }

        if (IsCounter(instrument))
        {
            name.Append("_total");
        }

        return name.ToString();
    }

    private static bool IsCounter(Instrument instrument)
    {
        var type = instrument.GetType();
        return type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(Counter<>) || d == typeof(ObservableCounter<>))
            && !(instrument.Meter.Name == RuntimeMeter && RuntimeLevels.Contains(instrument.Name));
    }

    private static bool IsHistogram(Instrument instrument)
        => instrument.GetType() is { IsGenericType: true } t && t.GetGenericTypeDefinition() == typeof(Histogram<>);

    private static bool IsCumulative(Instrument instrument)
        => instrument.GetType() is { IsGenericType: true } t && (t.GetGenericTypeDefinition() == typeof(Counter<>) || t.GetGenericTypeDefinition() == typeof(UpDownCounter<>));

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        var meter = instrument.Meter;
        var conduit = meter.Name.StartsWith("Conduit.", StringComparison.Ordinal)
            && (ReferenceEquals(meter.Scope, _meterFactory) || meter.Scope is null);
        if (!conduit && !(meter.Name == RuntimeMeter && meter.Scope is null))
        {
            return;
        }

        lock (_lock)
        {
            _series.TryAdd(instrument, new Dictionary<string, MetricSeries>(StringComparer.Ordinal));
        }

        listener.EnableMeasurementEvents(instrument);
    }

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct, IConvertible
    {
        var number = value.ToDouble(CultureInfo.InvariantCulture);
        var labels = tags.IsEmpty ? string.Empty : FormatLabels(tags);
        lock (_lock)
        {
            if (!_series.TryGetValue(instrument, out var byLabels))
            {
                return;
            }

            var histogram = IsHistogram(instrument);
            if (!byLabels.TryGetValue(labels, out var series))
            {
                series = new MetricSeries(labels, histogram ? DefaultBuckets : null);
                byLabels[labels] = series;
            }

            if (histogram)
            {
                var index = Array.BinarySearch(DefaultBuckets, number);
                series.Buckets![index >= 0 ? index : ~index]++;
                series.Count++;
                series.Value += number;
            }
            else if (IsCumulative(instrument))
            {
                series.Value += number;
            }
            else
            {
                series.Value = number;
            }
        }
    }

    private static string FormatLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in tags)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            foreach (var c in key)
            {
                text.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
            }

            text.Append("=\"");
            foreach (var c in Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty)
            {
                switch (c)
                {
                    case '\\': text.Append("\\\\"); break;
                    case '"': text.Append("\\\""); break;
                    case '\n': text.Append("\\n"); break;
                    default: text.Append(c); break;
                }
            }

            text.Append('"');
        }

        return text.ToString();
    }

    private static void Write(StringBuilder text, Instrument instrument, IEnumerable<MetricSeries> series)
    {
        var name = MetricName(instrument);
        var histogram = IsHistogram(instrument);
        var type = histogram ? "histogram" : IsCounter(instrument) ? "counter" : "gauge";
        if (!string.IsNullOrEmpty(instrument.Description))
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
        }

        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var s in series.OrderBy(s => s.Labels, StringComparer.Ordinal))
        {
            if (!histogram)
            {
                Sample(text, name, s.Labels, null, s.Value);
                continue;
            }

            long cumulative = 0;
            for (var i = 0; i < s.Buckets!.Length; i++)
            {
                cumulative += s.Buckets[i];
                var le = i < DefaultBuckets.Length ? DefaultBuckets[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
                Sample(text, name + "_bucket", s.Labels, $"le=\"{le}\"", cumulative);
            }

            Sample(text, name + "_sum", s.Labels, null, s.Value);
            Sample(text, name + "_count", s.Labels, null, s.Count);
        }
    }

    private static void Sample(StringBuilder text, string name, string labels, string? extra, double value)
    {
        text.Append(name);
        if (labels.Length > 0 || extra is not null)
        {
            text.Append('{').Append(labels);
            if (extra is not null)
            {
                text.Append(labels.Length > 0 ? "," : string.Empty).Append(extra);
            }

            text.Append('}');
        }

        text.Append(' ').Append(FormatValue(value)).Append('\n');
    }

    private static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
