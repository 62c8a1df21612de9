using Conduit.Runtime.Calls;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.Observers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conduit.Runtime.Hosting;

/// <summary>The services that make and send grain calls, common to a silo and a cluster client.</summary>
internal static class CallingSideServices
{
    /// <summary>Registers the clock, logging, the type registry, observers and the <see cref="IGrainFactory"/> (each once).</summary>
    public static IServiceCollection AddCallingSide(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging();
        services.TryAddSingleton<RepeatedLogs>();
        services.TryAddSingleton<GrainTypeRegistry>();
        services.TryAddSingleton<ObserverRegistry>();
        services.TryAddSingleton<RuntimeClient>();
        services.TryAddSingleton<IGrainFactory>(sp => sp.GetRequiredService<RuntimeClient>());
        return services;
    }
}
