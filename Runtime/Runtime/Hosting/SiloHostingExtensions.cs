using Conduit.Runtime.Activations;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Hosting;

/// <summary>Hosts a silo on the .NET generic host, as Orleans' <c>UseOrleans</c> does.</summary>
public static class SiloHostingExtensions
{
    /// <summary>
    /// Adds a silo to the host: grains are activated in this process and <see cref="IGrainFactory"/> is
    /// available from the services. The silo starts with the host and, on stop, deactivates every
    /// activation. Services registered after this call stop before the silo does.
    /// </summary>
    public static TBuilder UseSilo<TBuilder>(this TBuilder builder, Action<ISiloBuilder>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSilo(builder.Configuration, configure);
        return builder;
    }

    /// <summary>Adds a silo to <paramref name="services"/>; see <see cref="UseSilo{TBuilder}"/>.</summary>
    public static IServiceCollection AddSilo(this IServiceCollection services, IConfiguration configuration, Action<ISiloBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(SiloMarker)))
        {
            throw new InvalidOperationException("A silo was already added to these services.");
        }

        services.AddSingleton<SiloMarker>();
        services.AddOptions<SiloOptions>().Bind(configuration.GetSection(SiloOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
        services.AddCallingSide();
        services.AddSingleton<GrainActivator>();
        services.AddSingleton<SiloRuntime>();
        services.TryAddSingleton<IMessageRouter, LocalMessageRouter>();
        services.AddMetrics();
        services.AddHostedService<SiloLifecycleService>();
        services.AddHostedService<RuntimeMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ClusterMetrics>());
        services.TryAddSingleton<IClusterStatus>(sp => (IClusterStatus?)sp.GetService<ClusterSiloService>() ?? new SingleSiloStatus(sp.GetRequiredService<TimeProvider>()));

        var builder = new SiloBuilder(services, configuration);
        configure?.Invoke(builder);
        return services;
    }

    private sealed class SiloMarker;
}
