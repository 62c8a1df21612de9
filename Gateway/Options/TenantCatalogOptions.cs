namespace Conduit.Gateway;

/// <summary>The tenants the gateway admits (configuration section "Tenants": name to <see cref="TenantOptions"/>).</summary>
public sealed class TenantCatalogOptions
{
    /// <summary>Tenant name to its settings. Default: none (no key is accepted).</summary>
    public Dictionary<string, TenantOptions> Tenants { get; set; } = new(StringComparer.Ordinal);
}
