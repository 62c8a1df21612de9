namespace Conduit.Grains;

/// <summary>A pool's configuration summary and live counters, from <see cref="IPoolGrain.GetInfo"/>.</summary>
/// <param name="Name">The pool name (the grain key).</param>
/// <param name="Configured">Whether configuration section <c>Pools:{Name}</c> exists; false means an unknown pool (the gateway answers 404).</param>
/// <param name="Mode">"request" or "session" (empty when not configured).</param>
/// <param name="Status">"healthy", "degraded" (some connections unhealthy or opening, or waiters queued) or "unavailable" (breaker open or no usable connection); "unknown" when not configured.</param>
/// <param name="Connections">Connections the pool tracks (any state but closed).</param>
/// <param name="UsableConnections">Open, not draining, not unhealthy.</param>
/// <param name="LeasesInUse">Leases held now.</param>
/// <param name="Capacity">Leases the usable connections can hold.</param>
/// <param name="Waiters">Acquirers waiting in the queue.</param>
/// <param name="Breaker">The pool breaker's state: "Closed", "Open", "HalfOpen" or "Isolated".</param>
/// <param name="LeaseTimeoutMs">A lease not renewed within this is reclaimed.</param>
/// <param name="LeaseIdleReleaseMs">How long an agent keeps an unused request-mode lease.</param>
/// <param name="LeasesGranted">Leases granted since the pool activated (requests sent on held leases do not count).</param>
/// <param name="SubProtocol">The WebSocket subprotocol of the pool's upstream, which the gateway selects for a client that asks for it; null for none.</param>
/// <param name="Recycled">Connections drained and closed since the pool activated, by reason (null: none, or not configured).</param>
public sealed record PoolInfo(
    string Name,
    bool Configured,
    string Mode,
    string Status,
    int Connections,
    int UsableConnections,
    int LeasesInUse,
    int Capacity,
    int Waiters,
    string Breaker,
    long LeaseTimeoutMs,
    long LeaseIdleReleaseMs,
    long LeasesGranted = 0,
    string? SubProtocol = null,
    PoolRecycleCounts? Recycled = null);
