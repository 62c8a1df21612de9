namespace Conduit.Runtime.Cluster;

/// <summary>
/// The cluster status of a silo that runs alone, in memory (no <c>Cluster:Provider</c>): itself, active, with no
/// membership table to reach.
/// </summary>
internal sealed class SingleSiloStatus(TimeProvider time) : IClusterStatus
{
    private readonly DateTimeOffset _started = time.GetUtcNow();

    /// <inheritdoc />
    public ClusterStatusReport GetStatus() => new(
        "single",
        ClusterOptions.DefaultClusterId,
        "silo",
        "local",
        Store: null,
        [new ClusterMemberStatus("local", nameof(Membership.SiloStatus.Active), Environment.MachineName, _started, null, null, null)]);
}
