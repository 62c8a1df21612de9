using Conduit.Runtime;

namespace Conduit.Grains;

/// <summary>
/// One agent session, key "{tenant}/{agent}". The gateway hands it single JSON-RPC messages that it
/// has already parsed and validated; the agent forwards them through its lease and answers with the
/// client's own id. Failures come back as JSON-RPC error objects (see <see cref="JsonRpcErrorCodes"/>),
/// not as exceptions; the one exception is <see cref="AgentNotOpenException"/>, for an agent that lost its binding.
/// </summary>
public interface IAgentGrain : IGrainWithStringKey
{
    /// <summary>Binds the agent to a pool and to the observer of the client socket it serves. Idempotent.</summary>
    Task Open(AgentOpenRequest request, IAgentObserver observer);

    /// <summary>
    /// Binds again an agent that threw <see cref="AgentNotOpenException"/> while its socket was open (it was activated
    /// again after its silo died). True when the caller may resend; false for a session-mode pool: the session's
    /// upstream connection, and whatever the client set up on it (subscriptions, an initialized protocol session), was
    /// the old activation's, so the agent stays closed and the caller closes the client socket (1011) for the client to
    /// start a new session, rather than carrying on silently on a new connection.
    /// </summary>
    Task<bool> Rebind(AgentOpenRequest request, IAgentObserver observer);

    /// <summary>
    /// Forwards one JSON-RPC request or notification (a single object, not a batch). Returns the response
    /// JSON with the client's id, or null for a notification. Throws <see cref="AgentNotOpenException"/> when the
    /// agent is not open (a fresh activation after its silo died): open it again and resend.
    /// </summary>
    Task<string?> Send(string message);

    /// <summary>
    /// <see cref="Send"/> for a caller that also receives the session's pushes (the gateway): the answer comes with its
    /// place in the upstream's order of messages, which the pushes carry too.
    /// </summary>
    Task<AgentAnswer> Forward(string message);

    /// <summary>
    /// Forwards a JSON-RPC batch (a JSON array): its members are sent concurrently and the responses
    /// returned as an array (notifications have none; null when nothing is to be answered). An empty or
    /// malformed batch gets one -32600/-32700 error object, as JSON-RPC 2.0 says.
    /// </summary>
    Task<string?> SendBatch(string batch);

    /// <summary>
    /// The client socket <paramref name="socketId"/> is gone: release the lease and forget the observer, unless a later
    /// socket with the same agent id has opened the agent since (a client that reconnected before the gateway noticed
    /// its old socket was dead); that socket keeps the agent, its lease and, in session mode, its session.
    /// </summary>
    Task Close(string socketId);

    /// <summary>
    /// From the pool: others wait for a lease, so give request-mode lease <paramref name="leaseId"/> back as soon as none
    /// of this agent's requests is in flight on it (at once if none is); the next request acquires again, behind the
    /// waiters. Ignored for another lease and in session mode.
    /// </summary>
    [OneWay]
    Task YieldLease(string leaseId);
}
