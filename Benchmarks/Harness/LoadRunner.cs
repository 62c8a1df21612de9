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
    /// CPU time of this process (all threads, user + kernel) per operation during the phase, when measured; less
    /// sensitive than throughput to other load on a shared machine. Work done in other processes is not in it.
    /// </summary>
    public TimeSpan? CpuPerOperation { get; init; }

    /// <summary>Thread-pool work items this process completed per operation during the phase (thread hand-offs), when measured.</summary>
    public double? WorkItemsPerOperation { get; init; }
}

/// <summary>Runs an operation from N concurrent callers for a fixed time and measures it.</summary>
public static class LoadRunner
{
    /// <summary>The warm-up that precedes each measured phase, as a fraction of the phase.</summary>
    public const double WarmUpFraction = 0.2;

    /// <summary>Warms up for <see cref="WarmUpFraction"/> of <paramref name="duration"/>, then measures for <paramref name="duration"/>.</summary>
    public static async Task<LoadResult> RunAsync(string name, int callers, TimeSpan duration, Func<int, Task> operation)
    {
        await RunPhaseAsync(callers, duration * WarmUpFraction, operation, recorder: null);
        var recorder = new LatencyRecorder();
        var cpu = CpuClock.Start();
        var workItems = ThreadPool.CompletedWorkItemCount;
        var (ops, elapsed) = await RunPhaseAsync(callers, duration, operation, recorder);
        return new LoadResult(name, callers, ops, elapsed, recorder.Percentile(50), recorder.Percentile(99))
        {
            CpuPerOperation = cpu.PerOperation(ops),
            WorkItemsPerOperation = ops == 0 ? null : (ThreadPool.CompletedWorkItemCount - workItems) / (double)ops,
        };
    }

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

/// <summary>Measures this process's CPU time over a phase.</summary>
public readonly struct CpuClock
{
    private readonly TimeSpan _start;

    private CpuClock(TimeSpan start) => _start = start;

    /// <summary>Starts measuring.</summary>
    public static CpuClock Start() => new(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime);

    /// <summary>CPU time since <see cref="Start"/> divided by <paramref name="operations"/>.</summary>
    public TimeSpan? PerOperation(long operations)
        => operations == 0 ? null : (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - _start) / operations;
}
