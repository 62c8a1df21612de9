using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Conduit.Benchmarks.Harness;
using Conduit.Tests.Infrastructure;

namespace Conduit.Benchmarks.Pools;

/// <summary>Issue 4, benchmark 3: first-request latency of new agents through a pre-warmed pool when the upstream handshake takes 200 ms.</summary>
public sealed class PoolPrewarmScenario : IBenchmarkScenario
{
    private const int ArrivalsPerSecond = 200;

    /// <inheritdoc />
    public string Name => "pool-prewarm";

    /// <inheritdoc />
    public string Description => "first-request latency of 1,000 new agents through a pre-warmed pool vs each opening its own socket (200 ms handshake)";

    /// <inheritdoc />
    public async Task RunAsync(BenchmarkContext context)
    {
        var agents = context.Quick ? 200 : 1000;
        await using var upstream = await UpstreamServer.StartAsync(keepMessages: false);
        upstream.Faults.HandshakeDelay = TimeSpan.FromMilliseconds(200);
        await using var host = await PoolBenchHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["MinConnections"] = "2", ["MaxConnections"] = "10",
        });
        await host.WaitUsableAsync(2);

        var baseline = await RunAsync("own socket per agent (baseline)", agents, async i =>
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(upstream.Url, CancellationToken.None);
            await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo","params":[1]}"""), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[4096];
            await socket.ReceiveAsync(buffer, CancellationToken.None);
            socket.Abort();
        });

        // Pre-warming learns from demand: a first wave of agents (not measured) shows the pool the load,
        // its forecast opens the connections, and the measured wave of new agents finds them warm.
        var warmup = new IAgentGrainList();
        await RunAsync("warm-up wave", agents, async i =>
        {
            var agent = await host.OpenAgentAsync($"bench/warm-{i}");
            await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo","params":[1]}""");
            warmup.Add(agent);
        });
        await PoolBenchHost.CloseAgentsAsync(warmup.Items);
        var warmed = await host.Pool.GetInfo();
        context.Output.WriteLine($"after the warm-up wave the pool holds {warmed.Connections} connections (min 2, max 10)");

        var opened = new IAgentGrainList();
        var openTimes = new LatencyRecorder();
        var sendTimes = new LatencyRecorder();
        var measured = await RunAsync("new agent through the pool", agents, async i =>
        {
            var t0 = Stopwatch.GetTimestamp();
            var agent = await host.OpenAgentAsync($"bench/new-{i}");
            var t1 = Stopwatch.GetTimestamp();
            var reply = await agent.Send($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo","params":[1]}""");
            var t2 = Stopwatch.GetTimestamp();
            lock (openTimes)
            {
                var o = openTimes.CreateBuffer();
                o.Add(t1 - t0);
                o.Flush();
                var s = sendTimes.CreateBuffer();
                s.Add(t2 - t1);
                s.Flush();
            }

            if (reply is null || !reply.Contains("result", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"unexpected reply: {reply}");
            }

            opened.Add(agent);
        });

        ResultTable.Write(
            context.Output,
            $"First request of {agents} new agents arriving at {ArrivalsPerSecond}/s (column callers = arrivals/s), upstream handshake 200 ms (target: pool p99 <= 20 ms; latency = open + first response)",
            [(measured, baseline)]);
        context.Output.WriteLine($"  of which Open: p50 {openTimes.Percentile(50).TotalMilliseconds:F3} ms, p99 {openTimes.Percentile(99).TotalMilliseconds:F3} ms; first Send: p50 {sendTimes.Percentile(50).TotalMilliseconds:F3} ms, p99 {sendTimes.Percentile(99).TotalMilliseconds:F3} ms");
        var info = await host.Pool.GetInfo();
        context.Output.WriteLine($"pool: {info.Connections} connections after the run; upstream handshakes {upstream.HandshakeAttempts} ({agents} direct + the pool's)");
        await PoolBenchHost.CloseAgentsAsync(opened.Items);
    }

    private static async Task<LoadResult> RunAsync(string name, int total, Func<int, Task> firstRequest)
    {
        // Open loop: new agents arrive at a fixed rate, as users do, whatever the latency; so the
        // figures are each agent's own wait, not queueing that the benchmark itself would cause.
        var recorder = new LatencyRecorder();
        var start = Stopwatch.GetTimestamp();
        var tasks = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / (double)ArrivalsPerSecond) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(due);
            }

            var index = i;
            tasks.Add(Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                await firstRequest(index);
                var elapsed = Stopwatch.GetTimestamp() - t0;
                lock (recorder)
                {
                    var buffer = recorder.CreateBuffer();
                    buffer.Add(elapsed);
                    buffer.Flush();
                }
            }));
        }

        await Task.WhenAll(tasks);
        return new LoadResult(name, ArrivalsPerSecond, total, Stopwatch.GetElapsedTime(start), recorder.Percentile(50), recorder.Percentile(99));
    }

    private sealed class IAgentGrainList
    {
        private readonly object _lock = new();

        public List<Conduit.Grains.IAgentGrain> Items { get; } = [];

        public void Add(Conduit.Grains.IAgentGrain agent)
        {
            lock (_lock)
            {
                Items.Add(agent);
            }
        }
    }
}
