using Conduit.Grains;
using Conduit.Grains.Pools;
using Conduit.Runtime;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Pools;

/// <summary>A real upstream server plus a silo hosting the pool grains, with one pool named "main" pointed at the server.</summary>
internal sealed class PoolTestHost : IAsyncDisposable
{
    private PoolTestHost(UpstreamServer upstream, TestSiloHost silo)
    {
        Upstream = upstream;
        Silo = silo;
    }

    /// <summary>The upstream.</summary>
    public UpstreamServer Upstream { get; }

    /// <summary>The silo.</summary>
    public TestSiloHost Silo { get; }

    /// <summary>The grain factory.</summary>
    public IGrainFactory Grains => Silo.GrainFactory;

    /// <summary>Starts both; <paramref name="pool"/> holds <c>Pools:main:*</c> settings (without the prefix).</summary>
    public static async Task<PoolTestHost> StartAsync(IDictionary<string, string?>? pool = null, TimeProvider? clock = null, UpstreamServer? upstream = null, Action<IServiceCollection>? services = null)
    {
        upstream ??= await UpstreamServer.StartAsync();
        var settings = new Dictionary<string, string?> { ["Pools:main:Url"] = upstream.Url.ToString() };
        if (clock is not null)
        {
            // Calls time out by the same clock; tests that move it by minutes must not time out their own waits.
            settings["Silo:ResponseTimeout"] = "01:00:00";
        }

        foreach (var (key, value) in pool ?? new Dictionary<string, string?>())
        {
            settings[$"Pools:main:{key}"] = value;
        }

        var silo = await TestSiloHost.StartAsync(
            collection =>
            {
                if (clock is not null)
                {
                    collection.AddSingleton(clock);
                }

                services?.Invoke(collection);
            },
            silo: s =>
            {
                s.AddGrains(typeof(PoolOptions).Assembly);
                s.Services.AddConduitPools(s.Configuration);
            },
            settings: settings);
        return new PoolTestHost(upstream, silo);
    }

    /// <summary>The pool "main", once it has at least <paramref name="count"/> usable connections (failing the test after 5 s).</summary>
    public async Task<IPoolGrain> UsablePoolAsync(int count)
    {
        var pool = Grains.GetGrain<IPoolGrain>("main");
        for (var i = 0; i < 500 && (await pool.GetInfo()).UsableConnections < count; i++)
        {
            await Task.Delay(10);
        }

        Assert.True((await pool.GetInfo()).UsableConnections >= count, "connections did not open in time");
        return pool;
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
