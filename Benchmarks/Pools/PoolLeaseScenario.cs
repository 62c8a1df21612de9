using System.Diagnostics;
using Conduit.Benchmarks.Harness;
using Conduit.Grains;
using Conduit.Tests.Infrastructure;

namespace Conduit.Benchmarks.Pools;

/// <summary>Issue 4, benchmark 1: lease acquire/release latency with 1,000 concurrent agents on 10 connections.</summary>
public sealed class PoolLeaseScenario : IBenchmarkScenario
{
    private const int Agents = 1000;

    /// <inheritdoc />
    public string Name => "pool-lease";

    /// <inheritdoc />
    public string Description => "lease acquire/release p50/p99, 1,000 agents on 10 connections, vs a read-only call to the same pool grain";

    /// <inheritdoc />
    public async Task RunAsync(BenchmarkContext context)
    {
        await using var upstream = await UpstreamServer.StartAsync();
        await using var host = await PoolBenchHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["MinConnections"] = "10", ["MaxConnections"] = "10", ["MaxInFlightPerConnection"] = "100",
            ["PreWarming"] = "false", ["MaxWaiters"] = "5000",
        });
        await host.WaitUsableAsync(10);
        var pool = host.Pool;

        var rows = new List<(LoadResult, LoadResult)>();

        // Closed loop, no think time: 1,000 calls outstanding at every moment on one grain.
        var info = await LoadRunner.RunAsync("GetInfo call (baseline)", Agents, context.Duration, _ => pool.GetInfo());
        var (acquire, release) = await RunLeasesAsync(pool, context.Duration, think: TimeSpan.Zero, "no think");
        rows.Add((acquire, info));
        rows.Add((release, info));

        // Agents as they behave: hold the lease a while (a request or a burst), then come back later.
        foreach (var ms in new[] { 10, 100 })
        {
            var think = TimeSpan.FromMilliseconds(ms);
            var thinkBaseline = await RunInfoWithThinkAsync(pool, context.Duration, think);
            var (acquireThink, releaseThink) = await RunLeasesAsync(pool, context.Duration, think, $"{ms} ms hold+idle");
            rows.Add((acquireThink, thinkBaseline));
            rows.Add((releaseThink, thinkBaseline));
        }

        ResultTable.Write(
            context.Output,
            $"Pool leases, {Agents} agents, 10 connections x 100 slots (target: acquire p99 <= 1 ms; ratio = ops/s vs the GetInfo baseline at the same load)",
            rows);
        var final = await pool.GetInfo();
        context.Output.WriteLine($"after the run: leases in use {final.LeasesInUse}, waiters {final.Waiters}, connections {final.Connections}, upstream sockets accepted {upstream.AcceptedSockets}");
    }

    private static async Task<(LoadResult Acquire, LoadResult Release)> RunLeasesAsync(IPoolGrain pool, TimeSpan duration, TimeSpan think, string label)
    {
        await RunPhaseAsync(pool, duration / 5, think, null, null);
        var acquire = new LatencyRecorder();
        var release = new LatencyRecorder();
        var (ops, elapsed) = await RunPhaseAsync(pool, duration, think, acquire, release);
        return (
            new LoadResult($"acquire ({label})", Agents, ops, elapsed, acquire.Percentile(50), acquire.Percentile(99)),
            new LoadResult($"release ({label})", Agents, ops, elapsed, release.Percentile(50), release.Percentile(99)));
    }

    private static async Task<(long Ops, TimeSpan Elapsed)> RunPhaseAsync(IPoolGrain pool, TimeSpan duration, TimeSpan think, LatencyRecorder? acquire, LatencyRecorder? release)
    {
        long ops = 0;
        long failures = 0;
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tasks = Enumerable.Range(0, Agents).Select(i => Task.Run(async () =>
        {
            var a = acquire?.CreateBuffer();
            var r = release?.CreateBuffer();
            var request = new LeaseRequest($"bench/agent-{i}");
            long local = 0;
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var t0 = Stopwatch.GetTimestamp();
                var lease = await pool.Acquire(request);
                var t1 = Stopwatch.GetTimestamp();
                if (!lease.Granted)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                if (think > TimeSpan.Zero)
                {
                    await Task.Delay(Jittered(think));
                }

                var t2 = Stopwatch.GetTimestamp();
                await pool.Release(lease.LeaseId!, false);
                var t3 = Stopwatch.GetTimestamp();
                a?.Add(t1 - t0);
                r?.Add(t3 - t2);
                local++;
                if (think > TimeSpan.Zero)
                {
                    await Task.Delay(Jittered(think));
                }
            }

            a?.Flush();
            r?.Flush();
            Interlocked.Add(ref ops, local);
        })).ToArray();
        await Task.WhenAll(tasks);
        if (failures > 0)
        {
            Console.WriteLine($"  ({failures} acquires were refused)");
        }

        return (ops, Stopwatch.GetElapsedTime(start));
    }

    // Uniform in [0.5, 1.5] x think, so that 1,000 agents do not wake up in lock step.
    private static TimeSpan Jittered(TimeSpan think) => think * (0.5 + Random.Shared.NextDouble());

    private static async Task<LoadResult> RunInfoWithThinkAsync(IPoolGrain pool, TimeSpan duration, TimeSpan think)
    {
        var recorder = new LatencyRecorder();
        long ops = 0;
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, Agents).Select(_ => Task.Run(async () =>
        {
            var buffer = recorder.CreateBuffer();
            long local = 0;
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var t0 = Stopwatch.GetTimestamp();
                await pool.GetInfo();
                buffer.Add(Stopwatch.GetTimestamp() - t0);
                local++;
                await Task.Delay(Jittered(think));
                await Task.Delay(Jittered(think));
            }

            buffer.Flush();
            Interlocked.Add(ref ops, local);
        })));
        return new LoadResult($"GetInfo, {think.TotalMilliseconds} ms x2 think (base)", Agents, ops, Stopwatch.GetElapsedTime(start), recorder.Percentile(50), recorder.Percentile(99));
    }
}
