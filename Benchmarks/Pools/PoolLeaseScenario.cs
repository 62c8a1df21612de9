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
        await using var upstream = await UpstreamServer.StartAsync(keepMessages: false);
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
        // Little's law: with every agent always waiting on the one pool grain, the mean wait is agents / turn rate.
        context.Output.WriteLine(
            $"no think: {Agents} calls always queued on one grain, so mean latency >= {Agents} / {2 * acquire.Throughput:N0} turns/s = {Agents / (2 * acquire.Throughput) * 1000:F2} ms (Little's law); the target applies to agents that hold and idle");
        var final = await pool.GetInfo();
        context.Output.WriteLine($"after the run: leases in use {final.LeasesInUse}, waiters {final.Waiters}, connections {final.Connections}, upstream sockets accepted {upstream.AcceptedSockets}");
    }

    private static async Task<(LoadResult Acquire, LoadResult Release)> RunLeasesAsync(IPoolGrain pool, TimeSpan duration, TimeSpan think, string label)
    {
        var acquire = new LatencyRecorder();
        var release = new LatencyRecorder();
        var (ops, elapsed) = await RunAgentsAsync(duration, think, async (i, window) =>
        {
            var a = acquire.CreateBuffer();
            var r = release.CreateBuffer();
            var request = new LeaseRequest($"bench/agent-{i}");
            long measured = 0;
            long refused = 0;
            while (window.Running)
            {
                var t0 = Stopwatch.GetTimestamp();
                var lease = await pool.Acquire(request);
                var t1 = Stopwatch.GetTimestamp();
                if (!lease.Granted)
                {
                    refused++;
                    continue;
                }

                await ThinkAsync(think);
                var t2 = Stopwatch.GetTimestamp();
                await pool.Release(lease.LeaseId!, false);
                var t3 = Stopwatch.GetTimestamp();
                if (window.Contains(t0))
                {
                    a.Add(t1 - t0);
                    r.Add(t3 - t2);
                    measured++;
                }

                await ThinkAsync(think);
            }

            a.Flush();
            r.Flush();
            if (refused > 0)
            {
                Console.WriteLine($"  agent {i}: {refused} acquires were refused");
            }

            return measured;
        });
        return (
            new LoadResult($"acquire ({label})", Agents, ops, elapsed, acquire.Percentile(50), acquire.Percentile(99)),
            new LoadResult($"release ({label})", Agents, ops, elapsed, release.Percentile(50), release.Percentile(99)));
    }

    private static async Task<LoadResult> RunInfoWithThinkAsync(IPoolGrain pool, TimeSpan duration, TimeSpan think)
    {
        var recorder = new LatencyRecorder();
        var (ops, elapsed) = await RunAgentsAsync(duration, think, async (_, window) =>
        {
            var buffer = recorder.CreateBuffer();
            long measured = 0;
            while (window.Running)
            {
                var t0 = Stopwatch.GetTimestamp();
                await pool.GetInfo();
                if (window.Contains(t0))
                {
                    buffer.Add(Stopwatch.GetTimestamp() - t0);
                    measured++;
                }

                await ThinkAsync(think);
                await ThinkAsync(think);
            }

            buffer.Flush();
            return measured;
        });
        return new LoadResult($"GetInfo, {think.TotalMilliseconds} ms x2 think (base)", Agents, ops, elapsed, recorder.Percentile(50), recorder.Percentile(99));
    }

    /// <summary>
    /// Runs <see cref="Agents"/> agents for a warm-up (<see cref="LoadRunner.WarmUpFraction"/> of <paramref name="duration"/>) and then
    /// <paramref name="duration"/>; only operations that start inside the measured window count. With think time,
    /// each agent first waits a random part of one cycle, so that they arrive spread out, as real agents do, rather
    /// than all in the same millisecond.
    /// </summary>
    private static async Task<(long Ops, TimeSpan Elapsed)> RunAgentsAsync(TimeSpan duration, TimeSpan think, Func<int, MeasureWindow, Task<long>> agent)
    {
        var now = Stopwatch.GetTimestamp();
        var warmUp = duration * LoadRunner.WarmUpFraction;
        var window = new MeasureWindow(now + ToTicks(warmUp), now + ToTicks(warmUp + duration));
        var counts = await Task.WhenAll(Enumerable.Range(0, Agents).Select(i => Task.Run(async () =>
        {
            if (think > TimeSpan.Zero)
            {
                await Task.Delay(think * 2 * Random.Shared.NextDouble());
            }

            return await agent(i, window);
        })));
        return (counts.Sum(), duration);
    }

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static Task ThinkAsync(TimeSpan think) => think > TimeSpan.Zero ? Task.Delay(Jittered(think)) : Task.CompletedTask;

    /// <summary>The measured part of a run, in Stopwatch ticks.</summary>
    private sealed record MeasureWindow(long From, long Until)
    {
        public bool Running => Stopwatch.GetTimestamp() < Until;

        public bool Contains(long timestamp) => timestamp >= From && timestamp < Until;
    }

    // Uniform in [0.5, 1.5] x think, so that 1,000 agents do not wake up in lock step.
    private static TimeSpan Jittered(TimeSpan think) => think * (0.5 + Random.Shared.NextDouble());
}
