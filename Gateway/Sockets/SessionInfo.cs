namespace Conduit.Gateway.Sockets;

/// <summary>Who a client socket belongs to.</summary>
/// <param name="SocketId">Unique id of the socket (also its quota permit id).</param>
/// <param name="Tenant">The tenant of the API key.</param>
/// <param name="Pool">The pool named in the path.</param>
/// <param name="AgentKey">The agent grain key, "{tenant}/{agent}".</param>
/// <param name="Lifetime">How long the socket may stay open.</param>
/// <param name="SubProtocol">The WebSocket subprotocol selected at the upgrade (the pool's, when the client asked for it), else null.</param>
/// <param name="AnonymousAgent">The client named no agent: the gateway chose a fresh id that nobody else knows.</param>
internal sealed record SessionInfo(string SocketId, string Tenant, string Pool, string AgentKey, TimeSpan Lifetime, string? SubProtocol = null, bool AnonymousAgent = false);
