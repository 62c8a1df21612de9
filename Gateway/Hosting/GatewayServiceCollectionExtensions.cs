using Conduit.Gateway.Authentication;
using Conduit.Gateway.Health;
using Conduit.Gateway.Hosting;
using Conduit.Runtime.Hosting;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Pools;
using Conduit.Gateway.Quotas;
using Conduit.Gateway.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway;

/// <summary>Registers the gateway's services.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway: options from "Gateway" and tenants from "Tenants" (both validated at start-up), API keys,
    /// quota client, sessions, metrics, health, permit renewal and the shutdown drain. Needs an
    /// <c>IGrainFactory</c> (a co-hosted silo or a cluster client) and, after <c>Build</c>,
    /// <see cref="GatewayEndpoints.MapConduitGateway"/>. Turns ASP.NET Core's per-request hosting log off by default
    /// (see <see cref="HostingDiagnosticsCategory"/>).
    /// </summary>
    public static IServiceCollection AddConduitGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection("Gateway")).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddOptions<TenantCatalogOptions>()
            .Configure(options => configuration.GetSection("Tenants").Bind(options.Tenants))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TenantCatalogOptions>, TenantCatalogOptionsValidator>());

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrainPoolCatalog>();
        services.TryAddSingleton<IPoolCatalog>(sp => sp.GetRequiredService<GrainPoolCatalog>());
        services.TryAddSingleton<IPoolHealthSource, GrainPoolHealthSource>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<AdminKeys>();
        services.TryAddSingleton<RepeatedLogs>(); // the runtime's (a silo or cluster client registers it too)
        services.AddSingleton<QuotaClient>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<PrometheusExporter>();
        services.AddSingleton<HealthReporter>();
        services.AddSingleton<WebSocketEndpoint>();
        services.AddSingleton<PermitRenewalService>();
        services.AddHostedService(sp => sp.GetRequiredService<PermitRenewalService>());
        services.AddHostedService<SessionLifetimeService>();
        services.AddSingleton<IHostedService, GatewayDrainService>();

        // First in the list, so that any rule for this category in configuration (which comes later) wins over it.
        services.Configure<LoggerFilterOptions>(options => options.Rules.Insert(0, new LoggerFilterRule(null, HostingDiagnosticsCategory, LogLevel.None, null)));
        return services;
    }

    /// <summary>
    /// ASP.NET Core's per-request log category ("Request starting ... finished"). While it is enabled at any level the
    /// host creates an <c>Activity</c> and a logging scope for every request and keeps them as long as the request
    /// lasts, which for a WebSocket is hours: about 0.5 KB per open socket. The gateway turns it off unless
    /// configuration names it (<c>Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information</c>).
    /// </summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";
}
