namespace Conduit.Grains.Pools;

/// <summary>One lease granted by the pool grain.</summary>
internal sealed class PoolLease(string id, string holder, IAgentGrain? agent, string connection, DateTimeOffset grantedAt)
{
    /// <summary>The lease id.</summary>
    public string Id { get; } = id;

    /// <summary>Who holds it.</summary>
    public string Holder { get; } = holder;

    /// <summary>The agent that can be asked to give it back, if any.</summary>
    public IAgentGrain? Agent { get; } = agent;

    /// <summary>Whether its holder was asked to give it back (<see cref="IAgentGrain.YieldLease"/>).</summary>
    public bool YieldAsked { get; set; }

    /// <summary>The connection it is on.</summary>
    public string Connection { get; } = connection;

    /// <summary>When it was granted.</summary>
    public DateTimeOffset GrantedAt { get; } = grantedAt;

    /// <summary>When it was last granted or renewed.</summary>
    public DateTimeOffset RenewedAt { get; set; } = grantedAt;

    /// <summary>Whether the long-hold warning was logged.</summary>
    public bool Warned { get; set; }
}
