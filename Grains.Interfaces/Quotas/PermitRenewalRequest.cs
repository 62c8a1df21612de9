namespace Conduit.Grains;

/// <summary>A gateway's periodic renewal of the permits of the sockets it still holds.</summary>
/// <param name="GatewayId">The renewing gateway.</param>
/// <param name="Sockets">Socket id to tenant, for every socket the gateway holds open.</param>
/// <param name="RejectedMessages">Tenant to the number of messages the gateway refused since its last renewal.</param>
public sealed record PermitRenewalRequest(string GatewayId, Dictionary<string, string> Sockets, Dictionary<string, long> RejectedMessages);
