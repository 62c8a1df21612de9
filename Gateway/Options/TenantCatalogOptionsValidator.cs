using Conduit.Gateway.Authentication;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway;

/// <summary>Checks tenant names and that every configured key hash is a SHA-256 hex string.</summary>
internal sealed class TenantCatalogOptionsValidator : IValidateOptions<TenantCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantCatalogOptions options)
    {
        var errors = new List<string>();
        foreach (var (tenant, settings) in options.Tenants)
        {
            if (!AgentIds.IsValidSegment(tenant))
            {
                errors.Add($"Tenants:{tenant}: a tenant name must be 1-64 characters of letters, digits, '.', '_' or '-'.");
            }

            for (var i = 0; i < settings.ApiKeyHashes.Count; i++)
            {
                if (!ApiKeyHash.TryParseHex(settings.ApiKeyHashes[i], out _))
                {
                    errors.Add($"Tenants:{tenant}:ApiKeyHashes:{i} must be a SHA-256 hash as 64 hex characters (was '{settings.ApiKeyHashes[i]}').");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
