namespace Conduit.Gateway.Pools;

/// <summary>What the health endpoint shows of one pool.</summary>
/// <param name="Pool">The pool.</param>
/// <param name="Status">healthy, degraded or unavailable.</param>
/// <param name="Connections">Upstream connections open.</param>
/// <param name="HealthyConnections">Of which healthy.</param>
/// <param name="Waiters">Acquirers waiting for a lease.</param>
/// <param name="Retries">Upstream reconnect attempts so far.</param>
/// <param name="OpenBreakers">Circuit breakers (pool and connections) open now.</param>
/// <param name="BreakerState">The pool breaker: closed, open or half-open.</param>
public sealed record PoolHealthView(
    string Pool,
    string Status,
    int Connections,
    int HealthyConnections,
    int Waiters,
    long Retries,
    int OpenBreakers,
    string BreakerState);
