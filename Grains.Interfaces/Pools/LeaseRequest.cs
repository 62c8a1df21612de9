namespace Conduit.Grains;

/// <summary>An acquirer's request for a lease.</summary>
/// <param name="Holder">Who holds the lease (an agent key), for logs and reclaiming.</param>
/// <param name="Agent">
/// The agent to ask to give a request-mode lease back when others wait for one (<see cref="IAgentGrain.YieldLease"/>);
/// null for a holder that cannot be asked, which keeps its lease until it releases it or it times out.
/// </param>
public sealed record LeaseRequest(string Holder, IAgentGrain? Agent = null);
