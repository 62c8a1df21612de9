using Conduit.Runtime;

namespace Conduit.Grains;

/// <summary>
/// A pool's control plane, key = pool name: connection grains between min and max, leases, the FIFO
/// queue of waiters, scaling, pre-warming, TTL and rotation, health aggregation, the pool breaker.
/// It is not on the per-request path: agents send through <see cref="IConnectionGrain"/> directly.
/// Errors are values (<see cref="LeaseResult.ErrorCode"/>), not exceptions.
/// </summary>
public interface IPoolGrain : IGrainWithStringKey
{
    /// <summary>Configuration summary and counters; <see cref="PoolInfo.Configured"/> is false for an unknown pool name.</summary>
    Task<PoolInfo> GetInfo();

    /// <summary>Every tracked connection's last report.</summary>
    Task<IReadOnlyList<ConnectionReport>> GetConnections();

    /// <summary>Leases a slot (request mode) or a whole connection (session mode); waits FIFO up to AcquireTimeout.</summary>
    Task<LeaseResult> Acquire(LeaseRequest request);

    /// <summary>Gives a lease back; <paramref name="connectionFailed"/> when the holder saw its connection fail. Unknown ids are ignored.</summary>
    Task Release(string leaseId, bool connectionFailed);

    /// <summary>Renews leases (holders call it well within LeaseTimeout); returns the ids that are no longer held.</summary>
    Task<IReadOnlyList<string>> Renew(IReadOnlyList<string> leaseIds);

    /// <summary>Called by the pool's connection grains.</summary>
    Task Report(ConnectionReport report);
}
