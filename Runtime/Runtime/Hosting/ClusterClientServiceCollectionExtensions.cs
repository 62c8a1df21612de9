using Conduit.Runtime.Calls;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Messaging;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.Observers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Hosting;

/// <summary>The cluster client for processes that call grains without hosting them (gateways), as Orleans' UseOrleansClient.</summary>
public static class ClusterClientServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="ClusterClientOptions"/> to <paramref name="section"/> (e.g. "ClusterClient":
    /// RedisConnectionString, ClusterId, Silos...) and provides <see cref="IGrainFactory"/> whose calls go to the silos of a cluster, found through the Redis
    /// membership table or a configured silo list. Observers created with it are called back over the
    /// client's own connections. Do not combine with a silo in the same services.
    /// </summary>
    public static IServiceCollection AddClusterClient(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<ClusterClientOptions>().Bind(section);
        return services.AddClusterClient(_ => { });
    }

    /// <summary>As <see cref="AddClusterClient(IServiceCollection, IConfiguration)"/>, configured in code.</summary>
    public static IServiceCollection AddClusterClient(this IServiceCollection services, Action<ClusterClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ClusterClientOptions>().Configure(configure);
        services.AddOptions<SiloOptions>().Configure<IOptions<ClusterClientOptions>>((silo, client) => silo.ResponseTimeout = client.Value.ResponseTimeout);
        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging();
        services.TryAddSingleton<GrainTypeRegistry>();
        services.TryAddSingleton<ObserverRegistry>();
        services.TryAddSingleton<RuntimeClient>();
        services.TryAddSingleton<IGrainFactory>(sp => sp.GetRequiredService<RuntimeClient>());
        services.TryAddSingleton<RedisConnectionPool>();
        services.TryAddSingleton<ClusterMessageRouter>();
        services.Replace(ServiceDescriptor.Singleton<IMessageRouter>(sp => sp.GetRequiredService<ClusterMessageRouter>()));
        services.AddHostedService<ClusterClientService>();
        return services;
    }
}
