using System.Diagnostics;
using Conduit.Benchmarks.Harness;

namespace Conduit.Benchmarks.Gateway;

/// <summary>Runs an operation at a fixed total rate from N callers (open loop) and measures its latency.</summary>
internal static class PacedRunner
{
    /// <summary>
    /// Runs the phase; the result's CPU, work items, allocations and GC pauses are this process's plus those of
    /// <paramref name="otherProcess"/> when the path has one (<see cref="ProcessCounters.CountAsync"/>).
    /// </summary>
    public static async Task<LoadResult> RunAsync(string name, int callers, double ratePerSecond, TimeSpan duration, Func<int, Task> operation, Func<Task<ProcessCounters>>? otherProcess = null)
    {
        var ((ops, elapsed, recorder), counters) = await ProcessCounters.CountAsync(() => RunPhaseAsync(callers, ratePerSecond, duration, operation), otherProcess);
        return new LoadResult(name, callers, ops, elapsed, recorder.Percentile(50), recorder.Percentile(99)).WithCounters(counters);
    }

    private static async Task<(long Ops, TimeSpan Elapsed, LatencyRecorder Recorder)> RunPhaseAsync(int callers, double ratePerSecond, TimeSpan duration, Func<int, Task> operation)
    {
        var recorder = new LatencyRecorder();
        var interval = TimeSpan.FromSeconds(callers / ratePerSecond);
        long ops = 0;
        var start = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            var buffer = recorder.CreateBuffer();
            var next = interval * caller / callers;
            long local = 0;
            while (next < duration)
            {
                var wait = next - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                var t0 = Stopwatch.GetTimestamp();
                await operation(caller);
                buffer.Add(Stopwatch.GetTimestamp() - t0);
                local++;
                next += interval;
            }

            buffer.Flush();
            Interlocked.Add(ref ops, local);
        })).ToArray();
        await Task.WhenAll(tasks);
        return (ops, Stopwatch.GetElapsedTime(start), recorder);
    }
}
