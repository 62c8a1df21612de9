using System.Net;
using System.Net.Sockets;
using Conduit.Runtime;
using Conduit.Runtime.Activations;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Membership;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// Several silos in the test process on loopback ports, forming one cluster through one real
/// redis-server (in the spirit of Orleans' TestCluster), plus cluster clients. Short heartbeat and
/// death timeouts keep failure tests fast. Silos can be killed abruptly, stopped gracefully, and added.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly List<TestClusterSilo> _silos = [];
    private readonly List<IHost> _clients = [];
    private readonly bool _ownsRedis;

    private TestCluster(RedisServer redis, bool ownsRedis, string clusterId, Action<ClusterOptions>? tune, Action<ISiloBuilder>? configure, IReadOnlyDictionary<string, string?>? settings)
    {
        Redis = redis;
        _ownsRedis = ownsRedis;
        ClusterId = clusterId;
        Tune = tune;
        Configure = configure;
        Settings = settings ?? new Dictionary<string, string?>();
    }

    /// <summary>Heartbeat of test silos: 100 ms.</summary>
    public static TimeSpan Heartbeat { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Death timeout of test silos: 1 s.</summary>
    public static TimeSpan DeathTimeout { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Response timeout of test silos and clients: 5 s.</summary>
    public static TimeSpan ResponseTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>The redis-server.</summary>
    public RedisServer Redis { get; }

    /// <summary>The cluster id (unique per cluster, so clusters can share a redis-server).</summary>
    public string ClusterId { get; }

    /// <summary>Extra option changes for every silo.</summary>
    public Action<ClusterOptions>? Tune { get; }

    /// <summary>Extra set-up of every silo (more grains, their services), after the test grains and Redis clustering.</summary>
    public Action<ISiloBuilder>? Configure { get; }

    /// <summary>Extra configuration of every silo (e.g. <c>Pools:*</c>).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    /// <summary>What the silos logged at level Warning and above (time, level, category, message).</summary>
    public CapturedLog Log { get; } = new();

    /// <summary>The silos started so far (killed and stopped ones included).</summary>
    public IReadOnlyList<TestClusterSilo> Silos => _silos;

    /// <summary>
    /// Starts <paramref name="silos"/> silos on <paramref name="redis"/> (or on a redis-server of its own), each with the
    /// test grains, <paramref name="settings"/> in its configuration and <paramref name="configure"/> applied.
    /// </summary>
    public static async Task<TestCluster> StartAsync(
        int silos,
        RedisServer? redis = null,
        Action<ClusterOptions>? tune = null,
        Action<ISiloBuilder>? configure = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var cluster = new TestCluster(redis ?? await RedisServer.StartNewAsync(), redis is null, "tc" + Guid.NewGuid().ToString("N")[..10], tune, configure, settings);
        try
        {
            for (var i = 0; i < silos; i++)
            {
                await cluster.StartSiloAsync();
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more silo.</summary>
    public async Task<TestClusterSilo> StartSiloAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Silo:ResponseTimeout"] = ResponseTimeout.ToString(),
            ["Silo:ShutdownTimeout"] = "00:00:05",
        });
        builder.Configuration.AddInMemoryCollection(Settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddProvider(Log);
        builder.UseSilo(silo =>
        {
            silo.AddGrains(typeof(TestCluster).Assembly)
                .UseRedisClustering(Redis.ConnectionString, o =>
                {
                    o.ClusterId = ClusterId;
                    o.SiloPort = 0;
                    o.HeartbeatInterval = Heartbeat;
                    o.DeathTimeout = DeathTimeout;
                    o.ConnectTimeout = TimeSpan.FromSeconds(1);
                    o.RedisOperationTimeout = TimeSpan.FromSeconds(1);
                    Tune?.Invoke(o);
                })
                .AddRedisGrainStorage("Default");
            Configure?.Invoke(silo);
        });
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(15));
        var silo = new TestClusterSilo(host);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>
    /// Starts a cluster client (a gateway process) that finds silos through Redis, or through the given endpoints only;
    /// <paramref name="tune"/> changes its options last (a cluster key, say).
    /// </summary>
    public async Task<IGrainFactory> StartClientAsync(IEnumerable<string>? staticSilos = null, Action<ClusterClientOptions>? tune = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddProvider(Log);
        builder.Services.AddClusterClient(o =>
        {
            ConfigureClient(o, staticSilos);
            tune?.Invoke(o);
        });
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(15));
        _clients.Add(host);
        return host.Services.GetRequiredService<IGrainFactory>();
    }

    /// <summary>Sets the options of a cluster client of this cluster (Redis, or the given endpoints only), with the test timings.</summary>
    public void ConfigureClient(ClusterClientOptions o, IEnumerable<string>? staticSilos = null)
    {
        o.ClusterId = ClusterId;
        if (staticSilos is null)
        {
            o.RedisConnectionString = Redis.ConnectionString;
        }
        else
        {
            o.Silos = staticSilos.ToList();
        }

        o.RefreshInterval = Heartbeat;
        o.ResponseTimeout = ResponseTimeout;
        o.ConnectTimeout = TimeSpan.FromSeconds(1);
        o.RedisOperationTimeout = TimeSpan.FromSeconds(1);
        o.UnreachableFor = DeathTimeout;
    }

    /// <summary>Waits until every running silo sees all running silos as active (at most 10 s); returns them as the first one sees them.</summary>
    public async Task<IReadOnlyList<SiloAddress>> WhenAllActiveAsync()
    {
        var running = RunningSilos.ToList();
        await Eventually.TrueAsync(
            () => running.All(s => s.Service.Membership!.View.ActiveSilos.Count == running.Count),
            TimeSpan.FromSeconds(10),
            "the silos did not all see each other as active");
        return running[0].Service.Membership!.View.ActiveSilos;
    }

    /// <summary>The silos that are running.</summary>
    public IEnumerable<TestClusterSilo> RunningSilos => _silos.Where(s => s.IsRunning);

    /// <summary>Activations of <paramref name="grain"/> over every running silo.</summary>
    public int CountActivations(GrainId grain) => RunningSilos.Sum(s => s.Catalog.Find(grain) is null ? 0 : 1);

    /// <summary>The running silo that holds <paramref name="grain"/>, if any.</summary>
    public TestClusterSilo? FindHost(GrainId grain) => RunningSilos.FirstOrDefault(s => s.Catalog.Find(grain) is not null);

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.StopAsync(TimeSpan.FromSeconds(5));
            client.Dispose();
        }

        foreach (var silo in _silos)
        {
            await silo.DisposeAsync();
        }

        if (_ownsRedis)
        {
            await Redis.DisposeAsync();
        }
    }
}

/// <summary>One silo of a <see cref="TestCluster"/>.</summary>
public sealed class TestClusterSilo : IAsyncDisposable
{
    private int _state; // 0 running, 1 stopped or killed, 2 disposed
    private TcpListener? _vanishedHost;
    private Task _selfStop = Task.CompletedTask;

    internal TestClusterSilo(IHost host)
    {
        Host = host;
        Address = Service.Address!;
        // As app.Run() would: a silo that asks its host to stop (declared dead) gets stopped.
        Lifetime.ApplicationStopping.Register(() =>
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
            {
                _selfStop = Task.Run(() => Host.StopAsync(TimeSpan.FromSeconds(10)));
            }
        });
    }

    private IHostApplicationLifetime Lifetime => Host.Services.GetRequiredService<IHostApplicationLifetime>();

    /// <summary>Completes when the silo's host has stopped.</summary>
    public Task Stopped => Task.Delay(Timeout.Infinite, Lifetime.ApplicationStopped).ContinueWith(static _ => { }, TaskScheduler.Default);

    /// <summary>The silo's host.</summary>
    public IHost Host { get; }

    /// <summary>The silo's address.</summary>
    public SiloAddress Address { get; }

    /// <summary>The silo's grain factory.</summary>
    public IGrainFactory GrainFactory => Host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Whether it has not been killed or stopped (a silo that stops itself still counts until its host stops).</summary>
    public bool IsRunning => Volatile.Read(ref _state) == 0;

    internal Catalog Catalog => Host.Services.GetRequiredService<SiloRuntime>().Catalog;

    internal ClusterSiloService Service => Host.Services.GetRequiredService<ClusterSiloService>();

    /// <summary>Number of activations on this silo.</summary>
    public int ActivationCount => Catalog.Count;

    /// <summary>Number of activations of grain type <paramref name="grainType"/> (e.g. "agent") on this silo.</summary>
    public int CountActivations(string grainType) => Catalog.Activations.Count(a => a.GrainId.Type == grainType);

    /// <summary>Whether this silo holds an activation of <paramref name="grain"/>.</summary>
    public bool Holds(GrainId grain) => Catalog.Find(grain) is not null;

    /// <summary>
    /// Kills the silo as a crash would: no more heartbeats, connections reset, nothing unregistered. Its port then
    /// refuses connections, as after a process crash on a live host, so the other silos declare it dead after two
    /// missed heartbeats; with <paramref name="hostVanishes"/> the port accepts connections and never answers, as when
    /// the whole machine drops off the network, and only the death timeout declares it dead (fault injection).
    /// </summary>
    public async Task KillAsync(bool hostVanishes = false)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            await Service.KillAsync();
            if (hostVanishes)
            {
                _vanishedHost = new TcpListener(IPAddress.Loopback, Address.Port);
                _vanishedHost.Start();
            }

            await Host.StopAsync(TimeSpan.FromSeconds(5)); // releases its timers; the cluster part is already gone
        }
    }

    /// <summary>Stops the silo gracefully (grains deactivated and unregistered, row marked dead).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            await Host.StopAsync(TimeSpan.FromSeconds(10));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, 2) == 0)
        {
            await Host.StopAsync(TimeSpan.FromSeconds(10));
        }

        await _selfStop;
        Host.Dispose();
        _vanishedHost?.Dispose();
    }
}
