using System.Collections.Concurrent;
using Conduit.Grains;
using Conduit.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Pools;

/// <summary>
/// Knows the pools: from the local "Pools" configuration section when it has one (co-hosted with the silo, no call
/// needed), else by asking the pool grain (a stand-alone gateway), with the answer cached for
/// <see cref="GatewayOptions.PoolLookupCacheTime"/>.
/// </summary>
internal sealed class GrainPoolCatalog(IGrainFactory grains, IConfiguration configuration, IOptions<GatewayOptions> options, TimeProvider time) : IPoolCatalog
{
    private const int MaxCachedNames = 10_000;
    private readonly ConcurrentDictionary<string, (PoolLookup Pool, long At)> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PoolLookup> _configured = configuration.GetSection("Pools").GetChildren()
        .ToDictionary(c => c.Key, c => new PoolLookup(true, NullIfEmpty(c["SubProtocol"])), StringComparer.Ordinal);

    /// <summary>The pool names of the local configuration (empty when this process has none).</summary>
    public IReadOnlyCollection<string> ConfiguredNames => _configured.Keys;

    public async ValueTask<PoolLookup> LookupAsync(string pool, CancellationToken cancellationToken)
    {
        if (_configured.Count > 0)
        {
            return _configured.GetValueOrDefault(pool);
        }

        var now = time.GetTimestamp();
        if (_cache.TryGetValue(pool, out var cached) && time.GetElapsedTime(cached.At, now) < options.Value.PoolLookupCacheTime)
        {
            return cached.Pool;
        }

        var info = await grains.GetGrain<IPoolGrain>(pool).GetInfo().WaitAsync(cancellationToken);
        if (_cache.Count >= MaxCachedNames)
        {
            _cache.Clear();
        }

        var found = info.Configured ? new PoolLookup(true, NullIfEmpty(info.SubProtocol)) : PoolLookup.Unknown;
        _cache[pool] = (found, now);
        return found;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
