namespace Conduit.Grains.Pools;

/// <summary>How agents use a pool's connections.</summary>
public enum PoolMode
{
    /// <summary>Each agent leases a slot of in-flight capacity on some connection (multiplexed). The default.</summary>
    Request,

    /// <summary>Each agent holds one connection exclusively for its whole session.</summary>
    Session,
}
