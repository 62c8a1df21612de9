using Conduit.Benchmarks.Harness;
using Conduit.Runtime;
using Conduit.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conduit.Benchmarks.Runtime;

/// <summary>Local grain call throughput and latency against a single-reader channel loop doing the same work.</summary>
public sealed class GrainCallScenario : IBenchmarkScenario
{
    /// <inheritdoc />
    public string Name => "grain-calls";

    /// <inheritdoc />
    public string Description => "local grain calls (one non-reentrant grain) vs a single-reader Channel loop, 1 and 64 callers";

    /// <inheritdoc />
    public async Task RunAsync(BenchmarkContext context)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseSilo(silo => silo.AddGrains(typeof(GrainCallScenario).Assembly));
        using var host = builder.Build();
        await host.StartAsync();
        var grain = host.Services.GetRequiredService<IGrainFactory>().GetGrain<IBenchCounterGrain>("bench");
        await using var channel = new ChannelCounter();

        var rows = new List<(LoadResult, LoadResult)>();
        foreach (var callers in new[] { 1, 64 })
        {
            var results = await InterleavedRunner.RunAsync(
                callers,
                context.Duration,
                context.Rounds,
                new LoadPath("channel loop (baseline)", _ => channel.Increment()),
                new LoadPath("local grain call", _ => grain.Increment()));
            rows.Add((results[1], results[0]));
        }

        ResultTable.Write(context.Output, $"Local grain calls (paths interleaved in {context.Rounds} slices each; ratio = grain ops/s / baseline ops/s; target at 64 callers: cost at most 3x, ratio >= 0.33)", rows);
        await host.StopAsync();
    }
}
