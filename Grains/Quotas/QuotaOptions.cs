namespace Conduit.Grains.Quotas;

/// <summary>Tiers and tenants of the quota grain (configuration sections "Quotas" and "Tenants").</summary>
public sealed class QuotaOptions
{
    /// <summary>Tier name to its limits. Defaults: free 3/30, early 10/100, mid 15/200, enterprise 25/500 (sockets/messages per minute), 24 h lifetime.</summary>
    public Dictionary<string, TierOptions> Tiers { get; set; } = new(StringComparer.Ordinal)
    {
        ["free"] = new() { MaxSockets = 3, MessagesPerMinute = 30 },
        ["early"] = new() { MaxSockets = 10, MessagesPerMinute = 100 },
        ["mid"] = new() { MaxSockets = 15, MessagesPerMinute = 200 },
        ["enterprise"] = new() { MaxSockets = 25, MessagesPerMinute = 500 },
    };

    /// <summary>Tier of tenants that have no tier configured. Default "free".</summary>
    public string DefaultTier { get; set; } = "free";

    /// <summary>Tenant name to its settings (read from the root "Tenants" section). Default: none.</summary>
    public Dictionary<string, QuotaTenantOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A socket permit not renewed within this time expires (its gateway is presumed dead). Default 60 s.</summary>
    public TimeSpan PermitTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Retry-After hint given with a refused socket. Default 5 s.</summary>
    public TimeSpan SocketRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A tier's per-minute budget is handed out in at most this many slices per minute. Default 10 (range 1-1000).</summary>
    public int BudgetSlicesPerMinute { get; set; } = 10;

    /// <summary>How long a gateway may use a granted slice before unused messages lapse. Default 10 s.</summary>
    public TimeSpan GrantValidity { get; set; } = TimeSpan.FromSeconds(10);
}
