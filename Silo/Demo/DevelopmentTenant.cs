using Conduit.Gateway;
using Conduit.Gateway.Authentication;
using Microsoft.Extensions.Options;

namespace Conduit.Silo.Demo;

/// <summary>
/// The development tenant's well-known key (configured as a hash in appsettings.Development.json). Outside the
/// Development environment the key is refused even if its hash is configured, and start-up says so.
/// </summary>
internal static class DevelopmentTenant
{
    /// <summary>The development API key; public, so it must never open anything outside Development.</summary>
    public const string ApiKey = "dev-key-conduit-local-only";

    /// <summary>Removes the development key from the tenants unless the environment is Development.</summary>
    public static void Configure(IServiceCollection services, IHostEnvironment environment)
    {
        if (environment.IsDevelopment())
        {
            return;
        }

        var hash = ApiKeyHash.ComputeHex(ApiKey);
        services.PostConfigure<TenantCatalogOptions>(options =>
        {
            foreach (var tenant in options.Tenants.Values)
            {
                tenant.ApiKeyHashes.RemoveAll(h => string.Equals(h, hash, StringComparison.OrdinalIgnoreCase));
            }
        });
    }

    /// <summary>Logs what a newcomer needs to know about keys at start-up.</summary>
    public static void Announce(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Conduit.Silo");
        var tenants = app.Services.GetRequiredService<IOptions<TenantCatalogOptions>>().Value.Tenants;
        var keys = tenants.Values.Sum(t => t.ApiKeyHashes.Count);
        var devHashConfigured = app.Configuration.GetSection("Tenants").GetChildren()
            .SelectMany(t => t.GetSection("ApiKeyHashes").GetChildren())
            .Any(h => string.Equals(h.Value, ApiKeyHash.ComputeHex(ApiKey), StringComparison.OrdinalIgnoreCase));
        if (app.Environment.IsDevelopment() && devHashConfigured)
        {
            logger.LogWarning("Development environment: the development API key '{ApiKey}' is accepted (tenant 'dev'). It is refused in any other environment.", ApiKey);
        }
        else if (devHashConfigured)
        {
            logger.LogWarning("The development API key is configured but the environment is {Environment}: it is REFUSED. Configure real tenants under Tenants:{{name}}:ApiKeyHashes (see docs/gateway.md).", app.Environment.EnvironmentName);
        }

        if (keys == 0)
        {
            logger.LogWarning("No API keys are configured: every WebSocket upgrade will get 401. Configure Tenants:{{name}}:ApiKeyHashes (SHA-256 hex of each key), or run with ASPNETCORE_ENVIRONMENT=Development for the development key.");
        }
    }
}
