using Conduit.Runtime.Cluster;
using Conduit.Runtime.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Hosting;

/// <summary>The cluster client for processes that call grains without hosting them (gateways), as Orleans' UseOrleansClient.</summary>
public static class ClusterClientServiceCollectionExtensions
{
    /// <summary>
    /// Provides <see cref="IGrainFactory"/> whose calls go to the silos of a cluster, found through the Redis
    /// membership table or a configured silo list; observers created with it are called back over the
    /// client's own connections. Options come from the "ClusterClient" section of <paramref name="configuration"/>
    /// (ClusterId, RedisConnectionString, Silos, ClusterKey, ...), falling back on "Cluster:ClusterId",
    /// "Cluster:RedisConnectionString" and "Cluster:ClusterKey", the settings the silos use. Do not combine with a silo in the same services.
    /// </summary>
    public static IServiceCollection AddClusterClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ClusterClientOptions>().Bind(configuration.GetSection("ClusterClient"));
        return services.AddClusterClient(o =>
        {
            var client = configuration.GetSection("ClusterClient");
            if (client["ClusterId"] is null && configuration["Cluster:ClusterId"] is { } clusterId)
            {
                o.ClusterId = clusterId;
            }

            if (o.RedisConnectionString is null && o.Silos.Count == 0)
            {
                o.RedisConnectionString = configuration["Cluster:RedisConnectionString"] ?? "127.0.0.1:6379";
            }

            if (o.ClusterKey is null && configuration["Cluster:ClusterKey"] is { } key)
            {
                o.ClusterKey = key;
                if (o.AcceptedClusterKeys.Count == 0)
                {
                    o.AcceptedClusterKeys = configuration.GetSection("Cluster:AcceptedClusterKeys").Get<List<string>>() ?? [];
                }
            }
        });
    }

    /// <summary>As <see cref="AddClusterClient(IServiceCollection, IConfiguration)"/>, configured in code.</summary>
    public static IServiceCollection AddClusterClient(this IServiceCollection services, Action<ClusterClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ClusterClientOptions>().Configure(configure);
        services.AddOptions<SiloOptions>().Configure<IOptions<ClusterClientOptions>>((silo, client) => silo.ResponseTimeout = client.Value.ResponseTimeout);
        services.AddCallingSide();
        services.TryAddSingleton<RedisConnectionPool>();
        services.TryAddSingleton<ClusterMessageRouter>();
        services.Replace(ServiceDescriptor.Singleton<IMessageRouter>(sp => sp.GetRequiredService<ClusterMessageRouter>()));
        services.TryAddSingleton<ClusterClientService>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterClientService>());
        services.TryAddSingleton<IClusterStatus>(sp => sp.GetRequiredService<ClusterClientService>());
        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClusterMetrics>());
        return services;
    }
}
