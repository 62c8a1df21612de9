using Conduit.Gateway.Pools;

namespace Conduit.Gateway.Usage;

/// <summary>One pool as seen by this gateway, with the pool's own health when known.</summary>
internal sealed record PoolUsage(
    string Pool,
    long ActiveSockets,
    long OpenedSockets,
    long MessagesReceived,
    long RequestsCompleted,
    long RequestErrors,
    long InFlight,
    PoolHealthView? Health);
