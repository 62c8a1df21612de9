using Conduit.Runtime;

namespace Conduit.Grains;

/// <summary>The gateway's side of a client socket, called by the agent grain.</summary>
public interface IAgentObserver : IGrainObserver
{
    /// <summary>
    /// A message the upstream sent on its own (session mode), to be written to the client as is. <paramref name="sequence"/>
    /// is its place among the session's answers and pushes in the order the upstream sent them
    /// (<see cref="AgentAnswer.Sequence"/>), 0 when unknown: the observer writes it after the answers sent before it.
    /// </summary>
    void OnUpstreamMessage(string message, long sequence);

    /// <summary>The agent can no longer serve the socket (its session connection is gone): close it with this code.</summary>
    void OnClosed(int closeCode, string reason);
}
