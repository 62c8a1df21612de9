using Conduit.Grains;
using Conduit.Grains.Pools;
using Conduit.Runtime;
using Conduit.Runtime.Hosting;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conduit.Benchmarks.Pools;

/// <summary>A real upstream server and an in-process silo with one pool "bench" pointed at it.</summary>
internal sealed class PoolBenchHost : IAsyncDisposable
{
    private readonly IHost _host;

    private PoolBenchHost(UpstreamServer upstream, IHost host)
    {
        Upstream = upstream;
        _host = host;
    }

    public UpstreamServer Upstream { get; }

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public IPoolGrain Pool => Grains.GetGrain<IPoolGrain>("bench");

    public static async Task<PoolBenchHost> StartAsync(UpstreamServer upstream, IDictionary<string, string?> pool)
    {
        var settings = new Dictionary<string, string?> { ["Pools:bench:Url"] = upstream.Url.ToString() };
        foreach (var (key, value) in pool)
        {
            settings[$"Pools:bench:{key}"] = value;
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);

        // The same experiment switch as the gateway's silo: CONDUIT_BENCH_SILO_Agents__DedupMaxEntries=10 sets Agents:DedupMaxEntries.
        builder.Configuration.AddEnvironmentVariables(Gateway.SiloChildProcess.SettingPrefix);
        builder.Services.AddConduitPools(builder.Configuration);
        builder.UseSilo(silo => silo.AddGrains(typeof(PoolOptions).Assembly));
        var host = builder.Build();
        await host.StartAsync();
        return new PoolBenchHost(upstream, host);
    }

    /// <summary>Waits (up to 30 s) until the pool has <paramref name="count"/> usable connections.</summary>
    public async Task WaitUsableAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await Pool.GetInfo()).UsableConnections < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The pool did not open {count} connections.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Opens agent <paramref name="key"/> as a socket would, with the key as the socket id (see <see cref="CloseAgentsAsync"/>).</summary>
    public async Task<IAgentGrain> OpenAgentAsync(string key)
    {
        var agent = Grains.GetGrain<IAgentGrain>(key);
        await agent.Open(new AgentOpenRequest("bench", "bench", key), Grains.CreateObjectReference<IAgentObserver>(NullObserver.Instance));
        return agent;
    }

    /// <summary>Closes agents opened by <see cref="OpenAgentAsync"/>, as their sockets would.</summary>
    public static Task CloseAgentsAsync(IEnumerable<IAgentGrain> agents)
        => Task.WhenAll(agents.Select(a => a.Close(a.GetGrainId().Key)));

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private sealed class NullObserver : IAgentObserver
    {
        public static readonly NullObserver Instance = new();

        public void OnUpstreamMessage(string message, long sequence) { }

        public void OnClosed(int closeCode, string reason) { }
    }
}
