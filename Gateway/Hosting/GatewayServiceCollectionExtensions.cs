using Conduit.Gateway.Authentication;
using Conduit.Gateway.Health;
using Conduit.Gateway.Hosting;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Pools;
using Conduit.Gateway.Quotas;
using Conduit.Gateway.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway;

/// <summary>Registers the gateway's services.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the gateway: options from "Gateway" and tenants from "Tenants" (both validated at start-up), API keys,
    /// quota client, sessions, metrics, health, permit renewal and the shutdown drain. Needs an
    /// <c>IGrainFactory</c> (a co-hosted silo or a cluster client) and, after <c>Build</c>,
    /// <see cref="GatewayEndpoints.MapConduitGateway"/>.
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
        services.AddSingleton<QuotaClient>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<PrometheusExporter>();
        services.AddSingleton<HealthReporter>();
        services.AddSingleton<WebSocketEndpoint>();
        services.AddSingleton<PermitRenewalService>();
        services.AddHostedService(sp => sp.GetRequiredService<PermitRenewalService>());
        services.AddSingleton<IHostedService, GatewayDrainService>();
        return services;
    }
}
