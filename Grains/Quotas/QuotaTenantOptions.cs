namespace Conduit.Grains.Quotas;

/// <summary>What the quota grain reads of a tenant's configuration ("Tenants:{name}").</summary>
public sealed class QuotaTenantOptions
{
    /// <summary>The tenant's tier; null means <see cref="QuotaOptions.DefaultTier"/>.</summary>
    public string? Tier { get; set; }
}
