using Microsoft.Extensions.Configuration;

namespace Conduit.Gateway.Pools;

/// <summary>The pools named in the "Pools" configuration section (the same section the pool grains read).</summary>
internal sealed class ConfiguredPoolCatalog(IConfiguration configuration) : IPoolCatalog
{
    public ValueTask<bool> ExistsAsync(string pool, CancellationToken cancellationToken)
        => ValueTask.FromResult(configuration.GetSection("Pools").GetChildren().Any(c => string.Equals(c.Key, pool, StringComparison.Ordinal)));
}
