using Conduit.Runtime;

namespace Conduit.Grains;

/// <summary>
/// One agent session, key "{tenant}/{agent}". The gateway hands it single JSON-RPC messages that it
/// has already parsed and validated; the agent forwards them through its lease and answers with the
/// client's own id. Failures come back as JSON-RPC error objects (see <see cref="JsonRpcErrorCodes"/>),
/// never as exceptions.
/// </summary>
public interface IAgentGrain : IGrainWithStringKey
{
    /// <summary>Binds the agent to a pool and to the observer of the client socket it serves. Idempotent.</summary>
    Task Open(AgentOpenRequest request, IAgentObserver observer);

    /// <summary>
    /// Forwards one JSON-RPC request or notification (a single object, not a batch). Returns the response
    /// JSON with the client's id, or null for a notification.
    /// </summary>
    Task<string?> Send(string message);

    /// <summary>The client socket is gone: release session leases and forget the observer.</summary>
    Task Close();
}
