namespace Conduit.Grains;

/// <summary>
/// Thrown by <see cref="IAgentGrain.Send"/> when the agent is not bound to a socket: it was re-activated (its silo
/// died, or it was collected) and lost what <see cref="IAgentGrain.Open"/> told it. The caller opens it again with the
/// same request and observer and resends; nothing was sent upstream.
/// </summary>
public sealed class AgentNotOpenException : Exception
{
    /// <summary>Creates the exception (the runtime re-creates it on the caller's side from the message).</summary>
    public AgentNotOpenException(string message) : base(message) { }
}
