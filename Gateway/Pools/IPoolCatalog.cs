namespace Conduit.Gateway.Pools;

/// <summary>What the gateway needs to know of a pool before the upgrade: whether it exists (404), and its subprotocol.</summary>
public interface IPoolCatalog
{
    /// <summary>The pool <paramref name="pool"/>, or <see cref="PoolLookup.Unknown"/>.</summary>
    ValueTask<PoolLookup> LookupAsync(string pool, CancellationToken cancellationToken);
}

/// <summary>A pool as the gateway sees it before the upgrade.</summary>
/// <param name="Exists">Whether the pool is configured.</param>
/// <param name="SubProtocol">The WebSocket subprotocol of its upstream (<c>Pools:{name}:SubProtocol</c>), null for none.</param>
public readonly record struct PoolLookup(bool Exists, string? SubProtocol)
{
    /// <summary>No such pool.</summary>
    public static PoolLookup Unknown => default;
}
