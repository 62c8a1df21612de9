using Conduit.Gateway.Metrics;
using Conduit.Grains;
using Conduit.Runtime;

namespace Conduit.Gateway.Pools;

/// <summary>Asks the pool grains of the configured pools (and of pools this gateway has served) for their health.</summary>
internal sealed class GrainPoolHealthSource(IGrainFactory grains, GrainPoolCatalog catalog, GatewayMetrics metrics) : IPoolHealthSource
{
    public async Task<IReadOnlyList<PoolHealthView>> GetAsync(CancellationToken cancellationToken)
    {
        var names = catalog.ConfiguredNames.Union(metrics.Pools.Keys, StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var views = await Task.WhenAll(names.Select(ReadAsync));
        return views.Where(v => v is not null).Select(v => v!).ToList();
    }

    private async Task<PoolHealthView?> ReadAsync(string name)
    {
        var pool = grains.GetGrain<IPoolGrain>(name);
        var info = await pool.GetInfo();
        if (!info.Configured)
        {
            return null;
        }

        var connections = await pool.GetConnections();
        var reconnecting = connections.Count(c => c.State is ConnectionState.Initializing or ConnectionState.Failed);
        return new PoolHealthView(
            info.Name,
            info.Status,
            info.Mode,
            info.Connections,
            info.UsableConnections,
            info.LeasesInUse,
            info.Capacity,
            info.Waiters,
            reconnecting,
            info.Breaker,
            info.Recycled ?? PoolRecycleCounts.None);
    }
}
