namespace Conduit.Grains;

/// <summary>An acquirer's request for a lease.</summary>
/// <param name="Holder">Who holds the lease (an agent key), for logs and reclaiming.</param>
public sealed record LeaseRequest(string Holder);
