namespace Conduit.Gateway.Health;

/// <summary>Client sockets of this gateway.</summary>
internal sealed record ConnectionsSection(int Active, long Opened, Dictionary<string, long> Rejected, Dictionary<string, long> Closed, bool Draining);
