using Conduit.Grains;

namespace Conduit.Gateway.Pools;

/// <summary>What the health endpoint shows of one pool (from its pool grain).</summary>
/// <param name="Pool">The pool.</param>
/// <param name="Status">healthy, degraded, unavailable (or unknown when not configured).</param>
/// <param name="Mode">request or session.</param>
/// <param name="Connections">Upstream connections the pool tracks.</param>
/// <param name="UsableConnections">Of which open, not draining, not unhealthy.</param>
/// <param name="LeasesInUse">Leases held now.</param>
/// <param name="Capacity">Leases the usable connections can hold.</param>
/// <param name="Waiters">Acquirers waiting for a lease.</param>
/// <param name="Reconnecting">Connections being (re)connected: initializing, or failed and retrying with backoff.</param>
/// <param name="Breaker">The pool breaker: Closed, Open, HalfOpen or Isolated.</param>
/// <param name="Recycled">Connections drained and closed since the pool grain activated, by reason.</param>
public sealed record PoolHealthView(
    string Pool,
    string Status,
    string Mode,
    int Connections,
    int UsableConnections,
    int LeasesInUse,
    int Capacity,
    int Waiters,
    int Reconnecting,
    string Breaker,
    PoolRecycleCounts Recycled);
