namespace Conduit.Grains;

/// <summary>Life cycle of an upstream connection (DESIGN section 5).</summary>
public enum ConnectionState
{
    /// <summary>Connecting (or waiting to reconnect).</summary>
    Initializing,

    /// <summary>Open, no leases yet.</summary>
    Ready,

    /// <summary>Open and leased.</summary>
    Active,

    /// <summary>Open, was leased, no leases now.</summary>
    Idle,

    /// <summary>Open but failing its health checks; not leased.</summary>
    Unhealthy,

    /// <summary>Draining: no new requests; closes once its in-flight requests are answered.</summary>
    Recycling,

    /// <summary>The socket failed; a reconnect is scheduled with backoff.</summary>
    Failed,

    /// <summary>Closed for good (pool scaled down or shut down).</summary>
    Closed,
}
