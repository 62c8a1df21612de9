namespace Conduit.Grains.Quotas;

/// <summary>Limits of one tier.</summary>
public sealed class TierOptions
{
    /// <summary>Concurrent client sockets per tenant. Default 3.</summary>
    public int MaxSockets { get; set; } = 3;

    /// <summary>Messages per minute per tenant (a token bucket refilled continuously). Default 30.</summary>
    public int MessagesPerMinute { get; set; } = 30;

    /// <summary>Longest a client socket may stay open. Default 24 h.</summary>
    public TimeSpan MaxSocketLifetime { get; set; } = TimeSpan.FromHours(24);
}
