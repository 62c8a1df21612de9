namespace Conduit.Grains.Quotas;

/// <summary>One admitted socket: whose it is, which gateway holds it, and when it expires unless renewed.</summary>
internal sealed class SocketPermit(string tenant, string gatewayId, long expiresAt)
{
    public string Tenant { get; } = tenant;

    public string GatewayId { get; } = gatewayId;

    /// <summary>Timestamp (of the grain's <see cref="TimeProvider"/>) after which the permit is void.</summary>
    public long ExpiresAt { get; set; } = expiresAt;
}
