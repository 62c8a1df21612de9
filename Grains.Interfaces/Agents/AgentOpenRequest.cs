namespace Conduit.Grains;

/// <summary>What the gateway tells an agent when a client socket opens.</summary>
/// <param name="Pool">The pool named in the socket's path.</param>
/// <param name="Tenant">The tenant the API key belongs to.</param>
/// <param name="SocketId">A unique id of the client socket (an agent can be re-bound by a newer socket).</param>
/// <param name="Anonymous">
/// The gateway chose the agent's id because the client named none: no later socket can reach this agent, so it is
/// deactivated, with its de-duplication window, as soon as this socket closes instead of after its collection age.
/// </param>
public sealed record AgentOpenRequest(string Pool, string Tenant, string SocketId, bool Anonymous = false);
