namespace Conduit.Grains;

/// <summary>A gateway asks to admit one client socket.</summary>
/// <param name="Tenant">The tenant the socket's API key belongs to.</param>
/// <param name="GatewayId">The asking gateway process (its permits expire together if it dies).</param>
/// <param name="SocketId">A unique id of the socket.</param>
public sealed record SocketPermitRequest(string Tenant, string GatewayId, string SocketId);
