using System.Text;
using Conduit.Benchmarks.Harness;
using Conduit.Grains;
using Conduit.Grains.Connections;
using Conduit.Grains.JsonRpc;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Benchmarks.Pools;

/// <summary>Issue 4, benchmark 2: requests/s through a pool of 8 connections vs the same load sent straight to the upstream.</summary>
public sealed class PoolThroughputScenario : IBenchmarkScenario
{
    private const int Connections = 8;

    /// <inheritdoc />
    public string Name => "pool-throughput";

    /// <inheritdoc />
    public string Description => "echo requests/s and p50/p99 through agents + a pool of 8 connections vs 8 direct upstream sockets (target ratio >= 0.7)";

    /// <inheritdoc />
    public async Task RunAsync(BenchmarkContext context)
    {
        await using var upstream = await UpstreamServer.StartAsync(keepMessages: false);
        await using var host = await PoolBenchHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["MinConnections"] = $"{Connections}", ["MaxConnections"] = $"{Connections}", ["PreWarming"] = "false",
            ["MaxRequestsPerConnection"] = "1000000000", ["MaxInFlightPerConnection"] = "64",
        });
        await host.WaitUsableAsync(Connections);

        var direct = new UpstreamConnection[Connections];
        for (var i = 0; i < Connections; i++)
        {
            direct[i] = new UpstreamConnection("direct", TimeProvider.System, NullLogger.Instance, (_, _) => { }, _ => { });
            await direct[i].ConnectAsync(upstream.Url, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        var connections = (await host.Pool.GetConnections()).Select(c => host.Grains.GetGrain<IConnectionGrain>(c.Connection)).ToArray();
        var rows = new List<(LoadResult, LoadResult)>();

        // Warm both paths (JIT tiers, upstream buffers) so the first measured row is not penalised.
        var warmAgents = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => host.OpenAgentAsync($"bench/warm-{i}")));
        var warmIds = new long[64];
        await LoadRunner.WarmUpAsync(64, TimeSpan.FromSeconds(2), caller =>
        {
            var bytes = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{++warmIds[caller]}},"method":"echo","params":[1]}""");
            JsonRpcEnvelope.TryParse(bytes, out var envelope);
            return direct[caller % Connections].SendAsync(bytes, envelope, TimeSpan.FromSeconds(30));
        });
        await LoadRunner.WarmUpAsync(64, TimeSpan.FromSeconds(2), caller =>
            warmAgents[caller].Forward($$"""{"jsonrpc":"2.0","id":{{++warmIds[caller]}},"method":"echo","params":[1]}"""));
        await PoolBenchHost.CloseAgentsAsync(warmAgents);

        foreach (var callers in new[] { 64, 256 })
        {
            var agents = await Task.WhenAll(Enumerable.Range(0, callers).Select(i => host.OpenAgentAsync($"bench/tp-{callers}-{i}")));
            var counters = new long[callers];
            var grantsBefore = (await host.Pool.GetInfo()).LeasesGranted;

            // The connection grains alone (no agent hop) are a diagnostic row, to show where the cost is.
            var results = await InterleavedRunner.RunAsync(
                callers,
                context.Duration,
                context.Rounds,
                new LoadPath("direct, 8 sockets (baseline)", caller =>
                {
                    var bytes = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{++counters[caller]}},"method":"echo","params":[1]}""");
                    JsonRpcEnvelope.TryParse(bytes, out var envelope);
                    return direct[caller % Connections].SendAsync(bytes, envelope, TimeSpan.FromSeconds(30));
                }),
                new LoadPath("agent -> connection grain", caller =>
                    agents[caller].Forward( // what the gateway calls
                    $$"""{"jsonrpc":"2.0","id":{{++counters[caller]}},"method":"echo","params":[1]}""")),
                new LoadPath("connection grain only (diagnostic)", caller =>
                    connections[caller % connections.Length].Send(Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{++counters[caller]}},"method":"echo","params":[1]}"""))));
            var grants = (await host.Pool.GetInfo()).LeasesGranted - grantsBefore;
            context.Output.WriteLine($"  {callers} agents: {results[1].Operations:N0} requests measured through agents (plus warm-up), {grants:N0} leases granted by the pool grain in the whole run: the pool is not on the request path");
            rows.Add((results[1], results[0]));
            rows.Add((results[2], results[0]));
            await PoolBenchHost.CloseAgentsAsync(agents);
        }

        ResultTable.Write(context.Output, $"Requests through the pool (paths interleaved in {context.Rounds} slices each; ratio = pool ops/s / direct ops/s; target >= 0.7)", rows);
        var info = await host.Pool.GetInfo();
        context.Output.WriteLine($"pool: {info.Connections} connections, upstream sockets accepted {upstream.AcceptedSockets} (8 pool + 8 direct)");
        foreach (var connection in direct)
        {
            await connection.DisposeAsync();
        }
    }
}
