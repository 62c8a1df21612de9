using Conduit.Runtime.Cluster;
using Conduit.Runtime.Messaging;
using Conduit.Runtime.Storage.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Hosting;

/// <summary>Redis clustering and Redis grain storage for a silo (the roles of Orleans.Clustering.Redis, GrainDirectory.Redis and Persistence.Redis).</summary>
public static class ClusterSiloBuilderExtensions
{
    /// <summary>
    /// Makes the silo a member of a cluster whose membership table and grain directory live in Redis at
    /// <paramref name="connectionString"/>. Other settings come from the "Cluster" configuration section
    /// and then <paramref name="configure"/>.
    /// </summary>
    public static ISiloBuilder UseRedisClustering(this ISiloBuilder silo, string connectionString, Action<ClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        silo.Services.TryAddSingleton<RedisConnectionPool>();
        silo.Services.AddSingleton<IClusterStore, RedisClusterStore>();
        return AddClustering(silo, o =>
        {
            o.RedisConnectionString = connectionString;
            configure?.Invoke(o);
        });
    }

    /// <summary>
    /// Makes the silo a member of a cluster of silos in this same process, with membership and directory
    /// in memory (tests, demos). Silos with the same <see cref="ClusterOptions.ClusterId"/> form one cluster.
    /// </summary>
    public static ISiloBuilder UseInMemoryClustering(this ISiloBuilder silo, Action<ClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddSingleton<IClusterStore, InMemoryClusterStore>();
        return AddClustering(silo, o => configure?.Invoke(o));
    }

    private static ISiloBuilder AddClustering(ISiloBuilder silo, Action<ClusterOptions> configure)
    {
        var services = silo.Services;
        if (services.Any(d => d.ServiceType == typeof(ClusterSiloService)))
        {
            throw new InvalidOperationException("Clustering was already configured for this silo.");
        }

        services.AddOptions<ClusterOptions>()
            .Bind(silo.Configuration.GetSection("Cluster"))
            .Configure(configure);
        services.TryAddSingleton<ClusterMessageRouter>();
        services.Replace(ServiceDescriptor.Singleton<IMessageRouter>(sp => sp.GetRequiredService<ClusterMessageRouter>()));
        services.TryAddSingleton<ClusterSiloService>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterSiloService>());
        return silo;
    }

    /// <summary>
    /// Adds a Redis grain store under <paramref name="name"/>. Without a connection string it uses the
    /// clustering one; without a service id, the cluster id.
    /// </summary>
    public static ISiloBuilder AddRedisGrainStorage(this ISiloBuilder silo, string name, Action<RedisGrainStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var storageOptions = new RedisGrainStorageOptions();
        configure?.Invoke(storageOptions);
        silo.Services.TryAddSingleton<RedisConnectionPool>();
        silo.Services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) =>
        {
            var cluster = sp.GetService<IOptions<ClusterOptions>>()?.Value;
            var connectionString = storageOptions.ConnectionString ?? cluster?.RedisConnectionString ?? "127.0.0.1:6379";
            var serviceId = storageOptions.ServiceId ?? cluster?.ClusterId ?? "default";
            var pool = sp.GetRequiredService<RedisConnectionPool>();
            return new RedisGrainStorage(() => pool.GetAsync(connectionString, serviceId, storageOptions.OperationTimeout), name);
        });
        return silo;
    }
}
