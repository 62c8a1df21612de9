using Conduit.Grains.Agents;
using Conduit.Grains.Pools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the pools of configuration section <c>Pools</c> for the pool, connection and agent grains.</summary>
public static class PoolServiceCollectionExtensions
{
    /// <summary>
    /// Binds <c>Pools:{name}</c> to named <see cref="PoolOptions"/> for every child section, validates
    /// each at start-up (every bad value is reported by name), registers the pool catalog and a start-up
    /// step that activates every configured pool once the host has started (so its minimum connections
    /// are open before the first client); binds and validates <c>Agents</c> (<see cref="AgentOptions"/>). Call once on the silo's services:
    /// <c>services.AddConduitPools(configuration)</c>, and host the grains with
    /// <c>silo.AddGrains(typeof(PoolOptions).Assembly)</c>.
    /// </summary>
    public static IServiceCollection AddConduitPools(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(PoolOptions.SectionName);
        var names = section.GetChildren().Select(c => c.Key).ToArray();
        services.TryAddSingleton(new PoolCatalog(names));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new PoolRandomness());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PoolOptions>, PoolOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, PoolWarmupService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>());
        services.AddOptions<AgentOptions>().Bind(configuration.GetSection(AgentOptions.SectionName)).ValidateOnStart();
        foreach (var name in names)
        {
            services.AddOptions<PoolOptions>(name).Bind(section.GetSection(name)).ValidateOnStart();
        }

        return services;
    }
}
