namespace Conduit.Benchmarks.Harness;

/// <summary>Prints measured results next to their baseline with the throughput ratio.</summary>
public static class ResultTable
{
    /// <summary>Writes one header and a row per (measured, baseline) pair.</summary>
    public static void Write(TextWriter output, string title, IEnumerable<(LoadResult Measured, LoadResult Baseline)> rows)
    {
        output.WriteLine();
        output.WriteLine(title);
        output.WriteLine($"{"scenario",-34} {"callers",7} {"ops/s",12} {"p50 ms",9} {"p99 ms",9} {"cpu µs/op",10} {"items/op",9} {"KB/op",7} {"gc %",5}   {"ratio",6}");
        foreach (var (measured, baseline) in rows)
        {
            WriteRow(output, baseline, ratio: null);
            WriteRow(output, measured, measured.Throughput / baseline.Throughput);
        }
    }

    private static void WriteRow(TextWriter output, LoadResult r, double? ratio)
    {
        var ratioText = ratio is { } value ? $"{value,6:F2}" : "  base";
        var cpu = r.CpuPerOperation is { } perOp ? $"{perOp.TotalMicroseconds,10:F1}" : $"{"-",10}";
        var items = r.WorkItemsPerOperation is { } perOpItems ? $"{perOpItems,9:F1}" : $"{"-",9}";
        var allocated = r.AllocatedBytesPerOperation is { } bytes ? $"{bytes / 1024,7:F1}" : $"{"-",7}";
        var gc = r.GcPausePercent is { } pause ? $"{pause,5:F1}" : $"{"-",5}";
        output.WriteLine($"{r.Name,-34} {r.Callers,7} {r.Throughput,12:N0} {r.P50.TotalMilliseconds,9:F3} {r.P99.TotalMilliseconds,9:F3} {cpu} {items} {allocated} {gc}   {ratioText}");
    }
}
