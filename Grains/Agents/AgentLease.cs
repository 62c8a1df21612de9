namespace Conduit.Grains.Agents;

/// <summary>A lease an agent holds: its id and the connection grain to send through.</summary>
internal sealed record AgentLease(string Id, string ConnectionKey, IConnectionGrain Connection);
