namespace Conduit.Benchmarks.Harness;

/// <summary>
/// Prints measured results next to their baseline with the throughput ratio: that of the totals, and for interleaved
/// phases the lowest and highest ratio of a round (a slice of the path against the baseline's slice of the same
/// round), which shows how far the machine's drift moved it within the run.
/// </summary>
public static class ResultTable
{
    /// <summary>Writes one header and a row per (measured, baseline) pair.</summary>
    public static void Write(TextWriter output, string title, IEnumerable<(LoadResult Measured, LoadResult Baseline)> rows)
    {
        output.WriteLine();
        output.WriteLine(title);
        output.WriteLine($"{"scenario",-34} {"callers",7} {"ops/s",12} {"p50 ms",9} {"p99 ms",9} {"cpu µs/op",10} {"items/op",9} {"KB/op",7} {"gc %",5}   {"ratio",6}  {"rounds",9}");
        foreach (var (measured, baseline) in rows)
        {
            WriteRow(output, baseline, ratio: null, rounds: string.Empty);
            WriteRow(output, measured, measured.Throughput / baseline.Throughput, RoundRatios(measured, baseline));
        }
    }

    /// <summary>"min-max" of the per-round ratios, or nothing when the phases were not run in the same rounds.</summary>
    private static string RoundRatios(LoadResult measured, LoadResult baseline)
    {
        var (m, b) = (measured.SliceThroughputs, baseline.SliceThroughputs);
        if (m.Count == 0 || m.Count != b.Count || b.Any(t => t <= 0))
        {
            return string.Empty;
        }

        var ratios = m.Zip(b, (x, y) => x / y).ToList();
        return $"  {ratios.Min(),4:F2}-{ratios.Max():F2}";
    }

    private static void WriteRow(TextWriter output, LoadResult r, double? ratio, string rounds)
    {
        var ratioText = ratio is { } value ? $"{value,6:F2}" : "  base";
        var cpu = r.CpuPerOperation is { } perOp ? $"{perOp.TotalMicroseconds,10:F1}" : $"{"-",10}";
        var items = r.WorkItemsPerOperation is { } perOpItems ? $"{perOpItems,9:F1}" : $"{"-",9}";
        var allocated = r.AllocatedBytesPerOperation is { } bytes ? $"{bytes / 1024,7:F1}" : $"{"-",7}";
        var gc = r.GcPausePercent is { } pause ? $"{pause,5:F1}" : $"{"-",5}";
        output.WriteLine($"{r.Name,-34} {r.Callers,7} {r.Throughput,12:N0} {r.P50.TotalMilliseconds,9:F3} {r.P99.TotalMilliseconds,9:F3} {cpu} {items} {allocated} {gc}   {ratioText}{rounds}");
    }
}
