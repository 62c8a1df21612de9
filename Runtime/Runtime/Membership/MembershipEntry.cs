namespace Conduit.Runtime.Membership;

/// <summary>One row of the membership table.</summary>
/// <param name="Silo">The silo, with its generation.</param>
/// <param name="Status">Its status.</param>
/// <param name="StartTime">When it started.</param>
/// <param name="IAmAliveTime">Its last heartbeat (written by the silo itself).</param>
/// <param name="HostName">The machine name, for operators.</param>
/// <param name="GatewayEndpoint">Where clients connect ("host:port"), or null if it takes no clients.</param>
/// <param name="DeclaredDeadBy">Which silo declared it dead, if one did.</param>
public sealed record MembershipEntry(
    SiloAddress Silo,
    SiloStatus Status,
    DateTimeOffset StartTime,
    DateTimeOffset IAmAliveTime,
    string HostName,
    string? GatewayEndpoint,
    string? DeclaredDeadBy = null);
