using Conduit.Runtime;

namespace Conduit.Grains;

/// <summary>
/// One upstream WebSocket of a pool, key "{pool}/{n}". Reentrant: many requests are in flight on it at
/// once. Agents holding a lease on it call <see cref="Send"/> directly; the pool calls the rest.
/// </summary>
public interface IConnectionGrain : IGrainWithStringKey
{
    /// <summary>Opens the socket if it is not open (one attempt; on failure it retries by itself with backoff and reports to the pool).</summary>
    Task<ConnectionReport> Open();

    /// <summary>
    /// Sends one JSON-RPC request or notification (a single object, UTF-8: the agent has encoded it already) and returns
    /// the reply with the caller's id. The array is not modified, and must not be by the caller while the call runs.
    /// </summary>
    Task<ConnectionReply> Send(byte[] utf8);

    /// <summary>
    /// Session mode: where messages the upstream sends on its own go (null to detach). From an attach on, answers and
    /// pushes are numbered 1, 2, 3... in the order they were read (<see cref="ConnectionReply.Sequence"/>, the second
    /// argument of <see cref="IAgentObserver.OnUpstreamMessage"/>), so that the gateway can keep the upstream's order.
    /// </summary>
    Task AttachSession(IAgentObserver? observer);

    /// <summary>Stops taking requests and closes once those in flight are answered (TTL, rotation, health, scale-down).</summary>
    Task Drain();

    /// <summary>The connection's state now.</summary>
    Task<ConnectionReport> GetReport();

    /// <summary>Internal: the socket of <paramref name="generation"/> ended (the grain calls itself to get a turn).</summary>
    Task SocketClosed(long generation, string reason);
}
