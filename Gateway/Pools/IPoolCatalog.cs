namespace Conduit.Gateway.Pools;

/// <summary>Answers whether a pool exists, for the 404 before the upgrade.</summary>
public interface IPoolCatalog
{
    /// <summary>True when <paramref name="pool"/> is a configured pool.</summary>
    ValueTask<bool> ExistsAsync(string pool, CancellationToken cancellationToken);
}
