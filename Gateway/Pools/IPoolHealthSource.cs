namespace Conduit.Gateway.Pools;

/// <summary>Reads the health of the configured pools for /health/websocket and the usage API.</summary>
public interface IPoolHealthSource
{
    /// <summary>The health of every pool.</summary>
    Task<IReadOnlyList<PoolHealthView>> GetAsync(CancellationToken cancellationToken);
}
