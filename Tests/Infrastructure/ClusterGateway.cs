using System.Net;
using Conduit.Gateway;
using Conduit.Gateway.Authentication;
using Conduit.Grains.Pools;
using Conduit.Grains.Quotas;
using Conduit.Runtime.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// A stand-alone gateway (as Gateway/Program.cs runs it) on Kestrel (127.0.0.1, port 0): a cluster client of a
/// <see cref="TestCluster"/> through its Redis, with no pools of its own (it asks the pool grains). One tenant, "load",
/// with key <see cref="Key"/>; the silos need <see cref="SiloSettings"/> for its tier.
/// </summary>
public sealed class ClusterGateway : IAsyncDisposable
{
    /// <summary>The API key of tenant "load".</summary>
    public const string Key = "key-cluster-load";

    private ClusterGateway(WebApplication app, Uri baseUri)
    {
        App = app;
        BaseUri = baseUri;
    }

    /// <summary>Silo configuration for the gateway's tenant: tier "load", without practical limits.</summary>
    public static IReadOnlyDictionary<string, string?> SiloSettings { get; } = new Dictionary<string, string?>
    {
        ["Tenants:load:Tier"] = "load",
        ["Quotas:Tiers:load:MaxSockets"] = "100000",
        ["Quotas:Tiers:load:MessagesPerMinute"] = "100000000",
    };

    /// <summary>The product's grains for the silos of a <see cref="TestCluster"/> (its <c>configure</c>): agents, pools and connections, quotas.</summary>
    public static void ProductGrains(ISiloBuilder silo)
    {
        silo.AddGrains(typeof(PoolOptions).Assembly);
        silo.Services.AddConduitPools(silo.Configuration);
        silo.Services.AddConduitQuotas(silo.Configuration);
    }

    /// <summary>The gateway's host.</summary>
    public WebApplication App { get; }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseUri { get; }

    /// <summary>
    /// Starts a gateway for <paramref name="cluster"/>; <paramref name="settings"/> adds configuration (e.g. <c>Gateway:*</c>);
    /// with <paramref name="staticSilos"/> it finds silos at those endpoints only, not through Redis.
    /// </summary>
    public static async Task<ClusterGateway> StartAsync(TestCluster cluster, IReadOnlyDictionary<string, string?>? settings = null, IEnumerable<string>? staticSilos = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(cluster.Log).AddFilter("Microsoft", LogLevel.Warning); // beside the silos' warnings
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tenants:load:Tier"] = "load",
            ["Tenants:load:ApiKeyHashes:0"] = ApiKeyHash.ComputeHex(Key),
        });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Services.AddClusterClient(o => cluster.ConfigureClient(o, staticSilos));
        builder.Services.AddConduitGateway(builder.Configuration);
        var app = builder.Build();
        app.MapConduitGateway();
        try
        {
            await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new ClusterGateway(app, ServerAddress.Of(app));
    }

    /// <summary>The ws:// URL of <c>/ws/{pool}</c>, with an agent id when given.</summary>
    public Uri SocketUri(string pool, string? agent = null)
        => new($"ws://{BaseUri.Authority}/ws/{pool}{(agent is null ? string.Empty : "?agent=" + Uri.EscapeDataString(agent))}");

    /// <summary>Opens a client socket of tenant "load" (<paramref name="configure"/>: more options, such as subprotocols to ask for).</summary>
    public Task<TestWebSocketClient> ConnectAsync(string pool, string? agent = null, Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null)
        => TestWebSocketClient.ConnectAsync(SocketUri(pool, agent), o =>
        {
            o.SetRequestHeader("Authorization", "Bearer " + Key);
            configure?.Invoke(o);
        });

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await App.StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await App.DisposeAsync();
    }
}
