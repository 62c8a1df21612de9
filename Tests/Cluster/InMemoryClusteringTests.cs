using Conduit.Runtime;
using Conduit.Runtime.Hosting;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Cluster;

/// <summary>Issue 3: membership in memory, for silos of one process.</summary>
public sealed class InMemoryClusteringTests
{
    private static async Task<TestClusterSilo> StartSiloAsync(string clusterId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseSilo(silo => silo
            .AddGrains(typeof(InMemoryClusteringTests).Assembly)
            .AddMemoryGrainStorage("Default")
            .UseInMemoryClustering(o =>
            {
                o.ClusterId = clusterId;
                o.SiloPort = 0;
                o.HeartbeatInterval = TestCluster.Heartbeat;
                o.DeathTimeout = TestCluster.DeathTimeout;
            }));
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new TestClusterSilo(host);
    }

    [Fact]
    public async Task UseInMemoryClustering_TwoSilos_GrainsSpreadOnceEachAndSurviveAKill()
    {
        var clusterId = "mem" + Guid.NewGuid().ToString("N")[..8];
        await using var a = await StartSiloAsync(clusterId);
        await using var b = await StartSiloAsync(clusterId);
        Assert.True(await Retry.UntilAsync(() => Task.FromResult(a.Service.Membership!.View.ActiveSilos.Count == 2), TimeSpan.FromSeconds(5)));
        var keys = Enumerable.Range(0, 40).Select(i => "m" + i).ToList();

        await Task.WhenAll(keys.Select(k => a.GrainFactory.GetGrain<ICounterGrain>(k).Increment())).WaitAsync(TimeSpan.FromSeconds(10));
        var fromB = await Task.WhenAll(keys.Select(k => b.GrainFactory.GetGrain<ICounterGrain>(k).Increment())).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(fromB, r => Assert.Equal(2, r));
        Assert.Equal(40, a.ActivationCount + b.ActivationCount);
        Assert.True(a.ActivationCount > 0 && b.ActivationCount > 0);

        await b.KillAsync();
        Assert.True(await Retry.UntilAsync(async () =>
        {
            await Task.WhenAll(keys.Select(k => a.GrainFactory.GetGrain<ICounterGrain>(k).Get()));
            return true;
        }, TimeSpan.FromSeconds(10)));
        Assert.Equal(40, a.ActivationCount);
    }
}
