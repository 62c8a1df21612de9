using System.Diagnostics;

namespace Conduit.Benchmarks.Harness;

/// <summary>The result of one measured phase.</summary>
/// <param name="Name">What ran.</param>
/// <param name="Callers">Concurrent callers.</param>
/// <param name="Operations">Operations completed.</param>
/// <param name="Elapsed">Wall time of the phase.</param>
/// <param name="P50">Median latency.</param>
/// <param name="P99">99th percentile latency.</param>
public sealed record LoadResult(string Name, int Callers, long Operations, TimeSpan Elapsed, TimeSpan P50, TimeSpan P99)
{
    /// <summary>Operations per second.</summary>
    public double Throughput => Operations / Elapsed.TotalSeconds;

    /// <summary>
    /// CPU time of this process (all threads, user + kernel) per operation during the phase, plus that of the path's
    /// other process when it has one (<see cref="LoadPath.OtherProcess"/>); less sensitive than throughput to other
    /// load on a shared machine.
    /// </summary>
    public TimeSpan? CpuPerOperation { get; init; }

    /// <summary>
    /// Operations per second of each slice, in the order they ran, when the phase was run in slices
    /// (<see cref="InterleavedRunner"/>); empty otherwise.
    /// </summary>
    public IReadOnlyList<double> SliceThroughputs { get; init; } = [];

    /// <summary>Thread-pool work items completed per operation during the phase (thread hand-offs), counted like <see cref="CpuPerOperation"/>.</summary>
    public double? WorkItemsPerOperation { get; init; }

    /// <summary>Bytes allocated on the managed heap per operation, counted like <see cref="CpuPerOperation"/>.</summary>
    public double? AllocatedBytesPerOperation { get; init; }

    /// <summary>
    /// Share of the phase's wall time that garbage collections paused the managed threads, in percent (this process's
    /// pauses plus the other process's, so it can exceed what either process saw alone).
    /// </summary>
    public double? GcPausePercent { get; init; }

    /// <summary>This result with the per-operation figures of <paramref name="counters"/>, counted over the phase.</summary>
    public LoadResult WithCounters(ProcessCounters counters) => this with
    {
        CpuPerOperation = Operations == 0 ? null : counters.Cpu / Operations,
        WorkItemsPerOperation = Operations == 0 ? null : counters.WorkItems / (double)Operations,
        AllocatedBytesPerOperation = Operations == 0 ? null : counters.AllocatedBytes / (double)Operations,
        GcPausePercent = Elapsed <= TimeSpan.Zero ? null : 100 * counters.GcPause / Elapsed,
    };
}

/// <summary>Runs an operation from N concurrent callers for a fixed time and measures it.</summary>
public static class LoadRunner
{
    /// <summary>The warm-up that precedes each measured phase, as a fraction of the phase.</summary>
    public const double WarmUpFraction = 0.2;

    /// <summary>Warms up for <see cref="WarmUpFraction"/> of <paramref name="duration"/>, then measures for <paramref name="duration"/>.</summary>
    public static async Task<LoadResult> RunAsync(string name, int callers, TimeSpan duration, Func<int, Task> operation)
        => (await InterleavedRunner.RunAsync(callers, duration, rounds: 1, new LoadPath(name, operation)))[0];

    /// <summary>Runs <paramref name="operation"/> from <paramref name="callers"/> callers for <paramref name="duration"/>, measuring nothing.</summary>
    public static Task WarmUpAsync(int callers, TimeSpan duration, Func<int, Task> operation)
        => RunPhaseAsync(callers, duration, operation, recorder: null);

    internal static async Task<(long Ops, TimeSpan Elapsed)> RunPhaseAsync(int callers, TimeSpan duration, Func<int, Task> operation, LatencyRecorder? recorder)
    {
        long ops = 0;
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tasks = new Task[callers];
        for (var i = 0; i < callers; i++)
        {
            var caller = i;
            tasks[i] = Task.Run(async () =>
            {
                var buffer = recorder?.CreateBuffer();
                long local = 0;
                while (Stopwatch.GetTimestamp() < stopAt)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await operation(caller);
                    buffer?.Add(Stopwatch.GetTimestamp() - t0);
                    local++;
                }

                buffer?.Flush();
                Interlocked.Add(ref ops, local);
            });
        }

        await Task.WhenAll(tasks);
        return (ops, Stopwatch.GetElapsedTime(start));
    }
}
