using System.Diagnostics;

namespace Conduit.Benchmarks.Harness;

/// <summary>Collects latencies (as Stopwatch ticks) from many threads and reports percentiles.</summary>
public sealed class LatencyRecorder
{
    private readonly object _lock = new();
    private readonly List<long[]> _chunks = [];

    /// <summary>A per-caller buffer; call <see cref="Flush"/> when the caller is done.</summary>
    public sealed class Buffer(LatencyRecorder owner)
    {
        private long[] _items = new long[4096];
        private int _count;

        /// <summary>Records one sample.</summary>
        public void Add(long stopwatchTicks)
        {
            if (_count == _items.Length)
            {
                Array.Resize(ref _items, _items.Length * 2);
            }

            _items[_count++] = stopwatchTicks;
        }

        /// <summary>Hands the samples to the recorder.</summary>
        public void Flush()
        {
            lock (owner._lock)
            {
                owner._chunks.Add(_items[.._count]);
            }

            _count = 0;
        }
    }

    /// <summary>Creates a buffer for one caller.</summary>
    public Buffer CreateBuffer() => new(this);

    /// <summary>Number of samples.</summary>
    public long Count
    {
        get { lock (_lock) { return _chunks.Sum(c => (long)c.Length); } }
    }

    /// <summary>The latency at percentile <paramref name="p"/> (0-100).</summary>
    public TimeSpan Percentile(double p)
    {
        long[] all;
        lock (_lock) { all = _chunks.SelectMany(c => c).ToArray(); }
        if (all.Length == 0)
        {
            return TimeSpan.Zero;
        }

        Array.Sort(all);
        var index = (int)Math.Clamp(Math.Ceiling(p / 100.0 * all.Length) - 1, 0, all.Length - 1);
        return TimeSpan.FromSeconds(all[index] / (double)Stopwatch.Frequency);
    }
}
