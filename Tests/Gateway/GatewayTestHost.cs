using System.Net;
using System.Net.Http.Headers;
using Conduit.Gateway;
using Conduit.Gateway.Authentication;
using Conduit.Grains.Quotas;
using Conduit.Runtime;
using Conduit.Runtime.Hosting;
using Conduit.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Gateway;

/// <summary>
/// A real co-hosted silo and gateway on Kestrel (127.0.0.1, port 0) in front of a real <see cref="UpstreamServer"/>
/// (pool "up"). Tenants: "free1" and "free2" (free tier), "big" (enterprise), "load" (a tier without practical limits).
/// </summary>
internal sealed class GatewayTestHost : IAsyncDisposable
{
    public const string FreeKey = "key-free1";
    public const string Free2Key = "key-free2";
    public const string BigKey = "key-big";
    public const string LoadKey = "key-load";

    private GatewayTestHost(WebApplication app, UpstreamServer upstream, Uri baseUri)
    {
        App = app;
        Upstream = upstream;
        BaseUri = baseUri;
    }

    public WebApplication App { get; }

    public UpstreamServer Upstream { get; }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseUri { get; }

    /// <summary>What the host logged (Information and above; ASP.NET Core's own categories from Warning).</summary>
    public CapturedLog Log { get; private init; } = new();

    public IGrainFactory Grains => App.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Starts the host; with <paramref name="time"/>, the silo, grains and gateway run on that clock.</summary>
    public static async Task<GatewayTestHost> StartAsync(Dictionary<string, string?>? settings = null, UpstreamServer? upstream = null, TimeProvider? time = null)
    {
        upstream ??= await UpstreamServer.StartAsync();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        var log = new CapturedLog();
        builder.Logging.AddProvider(log).AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var config = new Dictionary<string, string?>
        {
            ["Pools:up:Url"] = upstream.Url.ToString(),
            ["Pools:up:MinConnections"] = "1",
            ["Pools:up:MaxConnections"] = "4",
            ["Tenants:free1:ApiKeyHashes:0"] = ApiKeyHash.ComputeHex(FreeKey),
            ["Tenants:free2:ApiKeyHashes:0"] = ApiKeyHash.ComputeHex(Free2Key),
            ["Tenants:big:Tier"] = "enterprise",
            ["Tenants:big:ApiKeyHashes:0"] = ApiKeyHash.ComputeHex(BigKey),
            ["Tenants:load:Tier"] = "load",
            ["Tenants:load:ApiKeyHashes:0"] = ApiKeyHash.ComputeHex(LoadKey),
            ["Quotas:Tiers:load:MaxSockets"] = "100000",
            ["Quotas:Tiers:load:MessagesPerMinute"] = "100000000",
        };
        foreach (var (key, value) in settings ?? [])
        {
            config[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(config);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.UseSilo(silo => silo.AddGrains(typeof(QuotaOptions).Assembly).AddMemoryGrainStorage("Default"));
        builder.Services.AddConduitPools(builder.Configuration);
        builder.Services.AddConduitQuotas(builder.Configuration);
        builder.Services.AddConduitGateway(builder.Configuration);
        var app = builder.Build();
        app.MapConduitGateway();
        await app.StartAsync();
        return new GatewayTestHost(app, upstream, ServerAddress.Of(app)) { Log = log };
    }

    /// <summary>The ws:// URL of <c>/ws/{pool}</c> with optional key and agent in the query.</summary>
    public Uri SocketUri(string pool = "up", string? apiKey = null, string? agent = null)
    {
        var query = new List<string>();
        if (apiKey is not null)
        {
            query.Add("api_key=" + Uri.EscapeDataString(apiKey));
        }

        if (agent is not null)
        {
            query.Add("agent=" + Uri.EscapeDataString(agent));
        }

        return new Uri($"ws://{BaseUri.Authority}/ws/{pool}{(query.Count > 0 ? "?" + string.Join('&', query) : string.Empty)}");
    }

    /// <summary>Opens a client socket with the key in the Authorization header.</summary>
    public Task<TestWebSocketClient> ConnectAsync(string apiKey = LoadKey, string pool = "up", string? agent = null)
        => TestWebSocketClient.ConnectAsync(SocketUri(pool, agent: agent), o => o.SetRequestHeader("Authorization", "Bearer " + apiKey));

    /// <summary>Attempts an upgrade and returns the HTTP status of a refusal (101 when it was accepted).</summary>
    public Task<(HttpStatusCode Status, RetryConditionHeaderValue? RetryAfter)> TryUpgradeAsync(string? apiKey, string pool = "up", string? agent = null)
        => WebSocketUpgrade.TryAsync(SocketUri(pool, agent: agent), apiKey);

    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(10) };

    public async Task StopAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await App.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (OperationCanceledException)
        {
        }

        await App.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
