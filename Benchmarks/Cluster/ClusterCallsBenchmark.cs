using Conduit.Benchmarks.Harness;
using Conduit.Runtime;
using Conduit.Runtime.Activations;
using Conduit.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Benchmarks.Cluster;

/// <summary>
/// Issue 3: grain calls from silo A to grains on silo B over loopback TCP (two silos in this process,
/// clustered through a real redis-server), next to a raw TCP request/response baseline (one
/// connection, length-prefixed frames, correlation ids, echo server, no serialization, no runtime).
/// </summary>
internal sealed class ClusterCallsBenchmark : IBenchmarkScenario
{
    private const string Payload = "0123456789abcdef";

    public string Name => "cluster-calls";

    public string Description => "remote grain calls silo A -> silo B (loopback) vs raw TCP request/response, 1 and 64 callers";

    public async Task RunAsync(BenchmarkContext context)
    {
        await using var redis = await BenchmarkRedis.StartAsync();
        var clusterId = "bench" + Guid.NewGuid().ToString("N")[..8];
        using var siloA = await StartSiloAsync(redis.ConnectionString, clusterId);
        using var siloB = await StartSiloAsync(redis.ConnectionString, clusterId);
        try
        {
            // Placement chooses among the silos A sees as active: wait until it sees B (its next read of the table).
            var status = siloA.Services.GetRequiredService<IClusterStatus>();
            for (var waited = 0; status.GetStatus().ActiveSilos < 2; waited += 50)
            {
                if (waited > 10_000)
                {
                    throw new InvalidOperationException("Silo A did not see silo B as active within 10 s.");
                }

                await Task.Delay(50);
            }

            var factory = siloA.Services.GetRequiredService<IGrainFactory>();
            var catalogB = siloB.Services.GetRequiredService<SiloRuntime>().Catalog;

            // Grains that placement put on B, one per caller (non-reentrant grains: one call at a time each).
            var remote = new List<IBenchEchoGrain>();
            for (var i = 0; remote.Count < 64 && i < 10_000; i++)
            {
                var grain = factory.GetGrain<IBenchEchoGrain>("g" + i);
                await grain.Echo(Payload);
                if (catalogB.Find(new GrainId("benchecho", "g" + i)) is not null)
                {
                    remote.Add(grain);
                }
            }

            await using var raw = new RawTcpEcho();
            await raw.ConnectAsync();
            var rows = new List<(LoadResult, LoadResult)>();
            foreach (var callers in new[] { 1, 64 })
            {
                var results = await InterleavedRunner.RunAsync(
                    callers,
                    context.Duration,
                    context.Rounds,
                    new LoadPath("raw TCP request/response", _ => raw.CallAsync(Payload.Length)),
                    new LoadPath("remote grain call A->B", caller => remote[caller].Echo(Payload)));
                rows.Add((results[1], results[0]));
            }

            ResultTable.Write(context.Output, $"Remote grain calls between two silos vs raw TCP (loopback, 16-byte payload; paths interleaved in {context.Rounds} slices each)", rows);
            var at64 = rows[^1];
            context.Output.WriteLine($"At 64 callers remote calls reach {at64.Item1.Throughput / at64.Item2.Throughput:P0} of raw TCP throughput (target: at least 50%).");
        }
        finally
        {
            await siloA.StopAsync();
            await siloB.StopAsync();
        }
    }

    private static async Task<IHost> StartSiloAsync(string redis, string clusterId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseSilo(silo => silo
            .AddGrains(typeof(ClusterCallsBenchmark).Assembly)
            .UseRedisClustering(redis, o =>
            {
                o.ClusterId = clusterId;
                o.ListenAddress = "127.0.0.1";
                o.SiloPort = 0;
            }));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
