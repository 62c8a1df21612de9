using Conduit.Runtime.Directory;
using Conduit.Runtime.Membership;

namespace Conduit.Runtime.Cluster;

/// <summary>Where a cluster keeps what its silos must agree on: the membership table and the grain directory.</summary>
internal interface IClusterStore
{
    /// <summary>The store's kind, as <see cref="ClusterStatusReport.Mode"/> names it: <c>redis</c> or <c>in-memory</c>.</summary>
    string Kind { get; }

    /// <summary>Opens (connects to) the store of the cluster <see cref="ClusterOptions.ClusterId"/>.</summary>
    Task<(IMembershipTable Table, IGrainDirectory Directory)> OpenAsync(ClusterOptions options, CancellationToken cancellationToken);
}

/// <summary>Membership and directory in Redis.</summary>
internal sealed class RedisClusterStore(RedisConnectionPool pool) : IClusterStore
{
    public string Kind => "redis";

    public async Task<(IMembershipTable Table, IGrainDirectory Directory)> OpenAsync(ClusterOptions options, CancellationToken cancellationToken)
    {
        var redis = await pool.GetAsync(options.RedisConnectionString, options.ClusterId, options.RedisOperationTimeout);
        await redis.WaitConnectedAsync(RedisConnection.StartupWait, cancellationToken);
        return (new RedisMembershipTable(redis), new RedisGrainDirectory(redis));
    }
}

/// <summary>Membership and directory in this process's memory, shared by every silo of the same cluster id in the process.</summary>
internal sealed class InMemoryClusterStore : IClusterStore
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (IMembershipTable, IGrainDirectory)> Clusters = new(StringComparer.Ordinal);

    public string Kind => "in-memory";

    public Task<(IMembershipTable Table, IGrainDirectory Directory)> OpenAsync(ClusterOptions options, CancellationToken cancellationToken)
        => Task.FromResult(Clusters.GetOrAdd(options.ClusterId, static _ =>
        {
            var table = new InMemoryMembershipTable();
            return (table, new InMemoryGrainDirectory(table));
        }));
}
