namespace Conduit.Grains;

/// <summary>What the quota grain knows about one tenant.</summary>
/// <param name="Tenant">The tenant.</param>
/// <param name="Tier">Its tier.</param>
/// <param name="Sockets">Socket permits currently held.</param>
/// <param name="MaxSockets">The tier's socket limit.</param>
/// <param name="MessagesPerMinute">The tier's message rate.</param>
/// <param name="MessagesGranted">Messages granted to gateways since the grain activated.</param>
/// <param name="RejectedSockets">Sockets refused since the grain activated.</param>
/// <param name="RejectedMessages">Messages refused by gateways since the grain activated.</param>
public sealed record TenantUsage(
    string Tenant,
    string Tier,
    int Sockets,
    int MaxSockets,
    int MessagesPerMinute,
    long MessagesGranted,
    long RejectedSockets,
    long RejectedMessages);
