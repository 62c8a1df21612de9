namespace Conduit.Grains;

/// <summary>A gateway asks for more of a tenant's message budget.</summary>
/// <param name="Tenant">The tenant.</param>
/// <param name="GatewayId">The asking gateway.</param>
/// <param name="Wanted">How many messages the gateway would like to be able to pass without asking again.</param>
/// <param name="Rejected">Messages of the tenant the gateway refused since it last reported.</param>
public sealed record MessageBudgetRequest(string Tenant, string GatewayId, int Wanted, long Rejected);
