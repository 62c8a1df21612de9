namespace Conduit.Runtime;

/// <summary>
/// What this process knows of its cluster now: for operators (the gateway's /api/cluster, /health/websocket, /metrics
/// and dashboard) and for grains that should not start what the cluster cannot finish now (a pool does not retire a
/// working connection while the membership table cannot be read: its replacement could not be activated). Read from
/// the last membership read: no I/O, cheap to call.
/// </summary>
public interface IClusterStatus
{
    /// <summary>The current status.</summary>
    ClusterStatusReport GetStatus();
}

/// <summary>A process's view of its cluster.</summary>
/// <param name="Mode">
/// <c>single</c> (one silo, no cluster), <c>in-memory</c> (silos of one process), <c>redis</c>, or <c>static</c> (a
/// cluster client with a fixed list of silos and no membership table).
/// </param>
/// <param name="ClusterId">The cluster's id (<c>default</c> unless configured).</param>
/// <param name="Role"><c>silo</c>, or <c>client</c> for a stand-alone gateway.</param>
/// <param name="Self">This silo's address (<c>host:port@generation</c>), or null for a client.</param>
/// <param name="Store">The membership table as this process last found it; null where there is none (single, static).</param>
/// <param name="Silos">The membership view's rows (with a static list, the configured silos), active ones first.</param>
public sealed record ClusterStatusReport(
    string Mode,
    string ClusterId,
    string Role,
    string? Self,
    ClusterStoreStatus? Store,
    IReadOnlyList<ClusterMemberStatus> Silos)
{
    /// <summary>Silos whose status is <c>Active</c>.</summary>
    public int ActiveSilos => Silos.Count(s => s.Status == "Active");
}

/// <summary>The membership table (Redis, or the process's memory) as this process last found it.</summary>
/// <param name="Reachable">Whether the last read of the table succeeded.</param>
/// <param name="LastReadAt">When a read last succeeded, or null if none has.</param>
/// <param name="UnreachableSince">When reads started failing (the first failure after the last success), or null while they succeed.</param>
public sealed record ClusterStoreStatus(bool Reachable, DateTimeOffset? LastReadAt, DateTimeOffset? UnreachableSince)
{
    /// <summary>Before the first read: not known to be reachable, and no failure yet.</summary>
    public static ClusterStoreStatus NotReadYet { get; } = new(false, null, null);
}

/// <summary>One silo as this process sees it.</summary>
/// <param name="Silo">Its address, <c>host:port@generation</c> (with a static list: the configured <c>host:port</c> until it answered).</param>
/// <param name="Status"><c>Joining</c>, <c>Active</c>, <c>ShuttingDown</c>, <c>Dead</c>; with a static list also <c>Unreachable</c>.</param>
/// <param name="HostName">The machine name its row gives, or null if unknown.</param>
/// <param name="StartTime">When it started, or null if unknown.</param>
/// <param name="HeartbeatAgeSeconds">
/// How long ago, by this process's own clock, its heartbeat last changed (so clock skew between machines does not
/// matter); null for a dead silo, for this silo itself, and where there are no heartbeats (single, static).
/// </param>
/// <param name="Gateway">Where clients connect to it (<c>host:port</c>), or null.</param>
/// <param name="DeclaredDeadBy">The silo that declared it dead, if one did (null when it left gracefully).</param>
public sealed record ClusterMemberStatus(
    string Silo,
    string Status,
    string? HostName,
    DateTimeOffset? StartTime,
    double? HeartbeatAgeSeconds,
    string? Gateway,
    string? DeclaredDeadBy);
