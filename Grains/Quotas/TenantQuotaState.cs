namespace Conduit.Grains.Quotas;

/// <summary>The quota grain's in-memory view of one tenant.</summary>
internal sealed class TenantQuotaState(string tenant, string tier, TierOptions limits, long now)
{
    public string Tenant { get; } = tenant;

    public string Tier { get; } = tier;

    public TierOptions Limits { get; } = limits;

    /// <summary>Socket ids holding a permit.</summary>
    public HashSet<string> Sockets { get; } = new(StringComparer.Ordinal);

    /// <summary>Messages left in the tenant's bucket (capacity and refill per minute = the tier's rate).</summary>
    public double Tokens { get; set; } = limits.MessagesPerMinute;

    /// <summary>Timestamp of the last refill.</summary>
    public long RefilledAt { get; set; } = now;

    public long MessagesGranted { get; set; }

    public long RejectedSockets { get; set; }

    public long RejectedMessages { get; set; }
}
