using System.Diagnostics;

namespace Conduit.Benchmarks.Harness;

/// <summary>CPU time, thread-pool work items, managed allocations and GC pause time a process has used so far.</summary>
public readonly record struct ProcessCounters(TimeSpan Cpu, long WorkItems, long AllocatedBytes, TimeSpan GcPause)
{
    /// <summary>This process's counters now.</summary>
    public static ProcessCounters Current()
    {
        using var process = Process.GetCurrentProcess();
        return new(process.TotalProcessorTime, ThreadPool.CompletedWorkItemCount, GC.GetTotalAllocatedBytes(precise: false), GC.GetTotalPauseDuration());
    }

    /// <summary>The counts between <paramref name="before"/> and this.</summary>
    public ProcessCounters Since(ProcessCounters before)
        => new(Cpu - before.Cpu, WorkItems - before.WorkItems, AllocatedBytes - before.AllocatedBytes, GcPause - before.GcPause);

    /// <summary>The sum of two counts.</summary>
    public static ProcessCounters operator +(ProcessCounters a, ProcessCounters b)
        => new(a.Cpu + b.Cpu, a.WorkItems + b.WorkItems, a.AllocatedBytes + b.AllocatedBytes, a.GcPause + b.GcPause);

    /// <summary>
    /// Runs <paramref name="phase"/> and counts what it cost this process, plus <paramref name="otherProcess"/> (a child
    /// process doing part of the work) when there is one, read before and after.
    /// </summary>
    public static async Task<(T Result, ProcessCounters Counters)> CountAsync<T>(Func<Task<T>> phase, Func<Task<ProcessCounters>>? otherProcess)
    {
        var other = otherProcess is null ? default : await otherProcess();
        var own = Current();
        var result = await phase();
        var counters = Current().Since(own);
        if (otherProcess is not null)
        {
            counters += (await otherProcess()).Since(other);
        }

        return (result, counters);
    }
}

/// <summary>One path of an interleaved comparison.</summary>
/// <param name="Name">The row's name.</param>
/// <param name="Operation">One operation, by caller index.</param>
/// <param name="OtherProcess">
/// Counters of another process that does part of this path's work (a child silo or relay), read before and after each
/// slice and added to the path's figures per operation; null when the path runs in this process only.
/// </param>
public sealed record LoadPath(string Name, Func<int, Task> Operation, Func<Task<ProcessCounters>>? OtherProcess = null);

/// <summary>
/// Compares paths under the same load by running them in turn, in several short slices each, rather than one after
/// the other: the speed of a shared machine drifts by tens of percent over a minute, and interleaving makes every path
/// see the same drift, so their ratio is steadier than the ratio of two consecutive phases.
/// </summary>
public static class InterleavedRunner
{
    /// <summary>Slices per path in a full run.</summary>
    public const int Rounds = 5;

    /// <summary>
    /// Runs each path for <paramref name="duration"/> in total, as <paramref name="rounds"/> slices taken in turn, each
    /// slice after a warm-up of <see cref="LoadRunner.WarmUpFraction"/> of it (which also lets the previous path's work
    /// drain). Results are in the order of <paramref name="paths"/>.
    /// </summary>
    public static async Task<LoadResult[]> RunAsync(int callers, TimeSpan duration, int rounds, params LoadPath[] paths)
    {
        var slice = duration / rounds;
        var totals = paths.Select(_ => new Totals()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var p = 0; p < paths.Length; p++)
            {
                var path = paths[p];
                var total = totals[p];
                await LoadRunner.RunPhaseAsync(callers, slice * LoadRunner.WarmUpFraction, path.Operation, recorder: null);
                var ((ops, elapsed), counters) = await ProcessCounters.CountAsync(
                    async () =>
                    {
                        AllocationSampler.Active?.Attribute($"{path.Name}, {callers} callers");
                        var phase = await LoadRunner.RunPhaseAsync(callers, slice, path.Operation, total.Recorder);
                        AllocationSampler.Active?.Attribute(null);
                        return phase;
                    },
                    path.OtherProcess);
                total.Counters += counters;
                total.Operations += ops;
                total.Elapsed += elapsed;
                total.Slices.Add(ops / elapsed.TotalSeconds);
            }
        }

        return paths.Select((path, p) => totals[p].ToResult(path.Name, callers)).ToArray();
    }

    private sealed class Totals
    {
        public LatencyRecorder Recorder { get; } = new();

        public long Operations { get; set; }

        public TimeSpan Elapsed { get; set; }

        public ProcessCounters Counters { get; set; }

        public List<double> Slices { get; } = [];

        public LoadResult ToResult(string name, int callers)
            => new LoadResult(name, callers, Operations, Elapsed, Recorder.Percentile(50), Recorder.Percentile(99)).WithCounters(Counters) with { SliceThroughputs = Slices };
    }
}
