using System.Diagnostics;
using Conduit.Benchmarks.Harness;
using Conduit.Silo.Demo;
using Microsoft.Extensions.Configuration;

namespace Conduit.Benchmarks.Gateway;

/// <summary>
/// End-to-end JSON-RPC round trips through the gateway (the real Silo executable as a child process: gateway, agent,
/// pool and connection grains) next to the same load sent straight to the same upstream; p99 at half load (half of
/// what the gateway carried at 100 clients); and the gateway process's memory per idle client socket.
/// </summary>
internal sealed class GatewayScenario : IBenchmarkScenario
{
    public string Name => "gateway";

    public string Description => "client -> gateway -> grains -> upstream vs client -> upstream: req/s and p50/p99 at 1/100/1000 clients, p99 at half load (half the gateway's 100-client throughput), memory per idle socket";

    public async Task RunAsync(BenchmarkContext context)
    {
        var output = context.Output;
        var configuration = new ConfigurationManager();
        await using var upstream = await DemoUpstream.StartAsync(configuration)
            ?? throw new InvalidOperationException("The demo upstream did not start.");
        var upstreamUri = new Uri(configuration["Pools:demo:Url"]!);
        await using var silo = await SiloChildProcess.StartAsync(upstreamUri, context.ChildCpus);
        await using var relay = await BareRelay.StartAsync(upstreamUri, context.ChildCpus);
        output.WriteLine($"upstream {upstreamUri}, gateway silo pid {silo.ProcessId} on port {silo.Port}, bare relay pid {relay.ProcessId}, {Environment.ProcessorCount} cores for this process");
        output.WriteLine(context.Pinned
            ? $"layout: pinned (--pinned): clients and upstream on CPU {BenchmarkContext.LoadCpus}, the gateway silo and the bare relay on CPU {context.ChildCpus}: the proxy has a core of its own, as on its own machine; the direct path has one core"
            : "layout: shared: clients, upstream and the gateway silo or bare relay share every core (run with --pinned to give the proxy a core of its own)");
        try
        {
            await MeasureAsync(context, upstreamUri, silo, relay);
        }
        catch
        {
            // An error answer ends the run; the silo logs warnings and errors, which say why.
            output.WriteLine("The gateway silo's log (level Warning and above):");
            output.WriteLine(silo.Output);
            throw;
        }
    }

    private static async Task MeasureAsync(BenchmarkContext context, Uri upstreamUri, SiloChildProcess silo, BareRelay relay)
    {
        var output = context.Output;
        // Every path is run once before anything is measured, long enough for the JIT's second tier to finish compiling
        // the hot code of every process (a fresh silo spends most of its first seconds compiling). The measured phases
        // then take the paths in turn, in slices, so that the machine's drifts hit all of them alike.
        await WarmUpAsync(upstreamUri, silo, relay, context.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5));

        var rows = new List<(LoadResult Measured, LoadResult Baseline)>();
        LoadResult[] at100 = [];
        int[] clientCounts = context.Quick ? [1, 100] : [1, 100, 1000];
        foreach (var clients in clientCounts)
        {
            var direct = await ConnectManyAsync(clients, () => BenchSocket.ConnectAsync(upstreamUri));
            var viaGateway = await ConnectManyAsync(clients, () => BenchSocket.ConnectAsync(silo.SocketUri, SiloChildProcess.ApiKey));
            var viaRelay = await ConnectManyAsync(clients, () => BenchSocket.ConnectAsync(relay.SocketUri));
            var results = await InterleavedRunner.RunAsync(
                clients,
                context.Duration,
                context.Rounds,
                new LoadPath("direct to upstream", i => direct[i].RoundTripAsync()),
                new LoadPath("through gateway", i => viaGateway[i].RoundTripAsync(), silo.CountersAsync),
                new LoadPath("through bare relay (floor)", i => viaRelay[i].RoundTripAsync(), relay.CountersAsync));
            rows.Add((results[1], results[0]));
            rows.Add((results[2], results[0]));
            if (clients == 100)
            {
                at100 = results;
            }

            await DisposeAllAsync(direct);
            await DisposeAllAsync(viaGateway);
            await DisposeAllAsync(viaRelay);
        }

        ResultTable.Write(output, $"Closed loop: each client sends its next request when the previous answer arrived; paths interleaved in {context.Rounds} slices each (cpu and work items = this process + the gateway or relay process, per request)", rows);

        var (directAt100, gatewayAt100, relayAt100) = (at100[0], at100[1], at100[2]);

        // "Half of that load": half of what the gateway carried at 100 clients, so the gateway runs at half its capacity.
        // Half the direct throughput is shown as well: the gateway carries about half of direct at most, so that rate is
        // near its saturation, where p99 measures queueing (the bare relay's too), not the cost of the hops.
        await RunPacedAsync(context, upstreamUri, silo, relay, gatewayAt100.Throughput / 2, "half the gateway's throughput at 100 clients (the target's load)", target: true);
        await RunPacedAsync(context, upstreamUri, silo, relay, directAt100.Throughput / 2, "half the direct throughput at 100 clients (near the gateway's saturation)", target: false);
        output.WriteLine($"throughput ratio at 100 clients: gateway {gatewayAt100.Throughput / directAt100.Throughput:F2}, bare relay {relayAt100.Throughput / directAt100.Throughput:F2} (target >= 0.5); gateway / bare relay {gatewayAt100.Throughput / relayAt100.Throughput:F2}");

        await MeasureIdleMemoryAsync(context, upstreamUri);
    }

    private static async Task RunPacedAsync(BenchmarkContext context, Uri upstreamUri, SiloChildProcess silo, BareRelay relay, double rate, string label, bool target)
    {
        var direct = await ConnectManyAsync(100, () => BenchSocket.ConnectAsync(upstreamUri));
        var viaGateway = await ConnectManyAsync(100, () => BenchSocket.ConnectAsync(silo.SocketUri, SiloChildProcess.ApiKey));
        var viaRelay = await ConnectManyAsync(100, () => BenchSocket.ConnectAsync(relay.SocketUri));
        var baseline = await PacedRunner.RunAsync("direct, paced", 100, rate, context.Duration, i => direct[i].RoundTripAsync());
        var before = await silo.ReadAsync();
        var measured = await PacedRunner.RunAsync("through gateway, paced", 100, rate, context.Duration, i => viaGateway[i].RoundTripAsync(), silo.CountersAsync);
        var after = await silo.ReadAsync();
        var relayed = await PacedRunner.RunAsync("through bare relay, paced", 100, rate, context.Duration, i => viaRelay[i].RoundTripAsync(), relay.CountersAsync);
        await DisposeAllAsync(direct);
        await DisposeAllAsync(viaGateway);
        await DisposeAllAsync(viaRelay);
        ResultTable.Write(context.Output, $"Open loop at {label}: {rate:N0} req/s in total", [(measured, baseline), (relayed, baseline)]);
        context.Output.WriteLine($"p99 above direct: gateway {(measured.P99 - baseline.P99).TotalMilliseconds:F3} ms, bare relay {(relayed.P99 - baseline.P99).TotalMilliseconds:F3} ms{(target ? " (target <= 1 ms)" : string.Empty)}");
        context.Output.WriteLine("  the gateway's own view of the same requests, arrival to answer (its /metrics histogram): " + DescribeDurations(before.DurationBuckets, after.DurationBuckets));
        var collections = after.Collections - before.Collections;
        var paused = after.Paused - before.Paused;
        context.Output.WriteLine($"  the silo's garbage collections meanwhile: {collections} ({(collections == 0 ? 0 : paused.TotalMilliseconds / collections):F2} ms paused each on average, {paused.TotalMilliseconds:F0} ms in all, {paused / measured.Elapsed:P1} of the phase)");
    }

    /// <summary>What share of the requests between two histogram readings were answered within each bound, and the bound the 99th percentile falls under.</summary>
    private static string DescribeDurations(SortedDictionary<double, long> before, SortedDictionary<double, long> after)
    {
        var total = after.GetValueOrDefault(double.PositiveInfinity) - before.GetValueOrDefault(double.PositiveInfinity);
        if (total <= 0)
        {
            return "no requests recorded";
        }

        var within = after.Where(b => b.Key is >= 0.0005 and <= 0.025)
            .Select(b => (Bound: b.Key, Share: (b.Value - before.GetValueOrDefault(b.Key)) / (double)total))
            .ToList();
        var p99 = after.First(b => (b.Value - before.GetValueOrDefault(b.Key)) >= 0.99 * total).Key;
        return $"{total:N0} requests; " + string.Join(", ", within.Select(w => $"{w.Share:P1} within {w.Bound * 1000:0.#} ms"))
            + $"; p99 at most {(double.IsPositiveInfinity(p99) ? "+Inf" : $"{p99 * 1000:0.#} ms")}";
    }

    private static async Task WarmUpAsync(Uri upstreamUri, SiloChildProcess silo, BareRelay relay, TimeSpan duration)
    {
        var direct = await ConnectManyAsync(100, () => BenchSocket.ConnectAsync(upstreamUri));
        var viaGateway = await ConnectManyAsync(100, () => BenchSocket.ConnectAsync(silo.SocketUri, SiloChildProcess.ApiKey));
        var viaRelay = await ConnectManyAsync(100, () => BenchSocket.ConnectAsync(relay.SocketUri));
        await LoadRunner.WarmUpAsync(100, duration / 2, i => direct[i].RoundTripAsync());
        await LoadRunner.WarmUpAsync(100, duration, i => viaGateway[i].RoundTripAsync());
        await LoadRunner.WarmUpAsync(100, duration, i => viaRelay[i].RoundTripAsync());
        await DisposeAllAsync(direct);
        await DisposeAllAsync(viaGateway);
        await DisposeAllAsync(viaRelay);
    }

    private static async Task MeasureIdleMemoryAsync(BenchmarkContext context, Uri upstreamUri)
    {
        // A fresh silo: in the one that carried the load phases, new sockets fill memory the heap had already grown to,
        // which flatters the figure.
        await using var silo = await SiloChildProcess.StartAsync(upstreamUri, context.ChildCpus);
        var count = context.Quick ? 1_000 : 10_000;
        var output = context.Output;
        await Task.Delay(TimeSpan.FromSeconds(2));
        var before = silo.ResidentBytes();
        var heapBefore = await silo.HeapAfterLastCollectionAsync();
        var sw = Stopwatch.StartNew();
        var idle = await ConnectManyAsync(count, () => BenchSocket.ConnectAsync(silo.SocketUri, SiloChildProcess.ApiKey), parallelism: 32);
        var opened = sw.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(5));
        var after = silo.ResidentBytes();
        var heapAfter = await silo.HeapAfterLastCollectionAsync();
        output.WriteLine();
        output.WriteLine($"Idle sockets on a fresh gateway silo (pid {silo.ProcessId}): {count:N0} opened in {opened.TotalSeconds:F1} s; RSS {before / 1048576.0:F1} MiB -> {after / 1048576.0:F1} MiB; managed heap after the last GC {heapBefore / 1048576.0:F1} MiB -> {heapAfter / 1048576.0:F1} MiB");
        output.WriteLine($"memory per idle socket: {(after - before) / (double)count / 1024:F1} KB of process memory (target <= 20 KB), of which managed heap {(heapAfter - heapBefore) / (double)count / 1024:F1} KB; includes the socket's agent grain activation; no baseline process");
        await DisposeAllAsync(idle);
    }

    private static async Task<BenchSocket[]> ConnectManyAsync(int count, Func<Task<BenchSocket>> connect, int parallelism = 50)
    {
        var sockets = new BenchSocket[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, _) => sockets[i] = await connect());
        return sockets;
    }

    private static async Task DisposeAllAsync(BenchSocket[] sockets)
    {
        foreach (var socket in sockets)
        {
            await socket.DisposeAsync();
        }
    }
}
