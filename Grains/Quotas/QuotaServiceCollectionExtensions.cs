using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Conduit.Grains.Quotas;

/// <summary>Registers the quota grain's options.</summary>
public static class QuotaServiceCollectionExtensions
{
    /// <summary>Binds <see cref="QuotaOptions"/> from "Quotas" (tiers) and "Tenants" (tenant tiers) and validates them at start-up.</summary>
    public static IServiceCollection AddConduitQuotas(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<QuotaOptions>()
            .Bind(configuration.GetSection("Quotas"))
            .Configure(options => configuration.GetSection("Tenants").Bind(options.Tenants))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QuotaOptions>, QuotaOptionsValidator>());
        return services;
    }
}
