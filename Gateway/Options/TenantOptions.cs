namespace Conduit.Gateway;

/// <summary>A tenant as the gateway sees it (configuration "Tenants:{name}").</summary>
public sealed class TenantOptions
{
    /// <summary>The tenant's tier (read by the quota grain; the gateway ignores it).</summary>
    public string? Tier { get; set; }

    /// <summary>SHA-256 hashes (hex) of the tenant's API keys; the keys themselves are never configured.</summary>
    public List<string> ApiKeyHashes { get; set; } = [];
}
