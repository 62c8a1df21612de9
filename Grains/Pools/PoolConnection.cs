namespace Conduit.Grains.Pools;

/// <summary>The pool grain's book-keeping of one connection grain.</summary>
internal sealed class PoolConnection(string key, ConnectionReport initial)
{
    /// <summary>The connection grain key.</summary>
    public string Key { get; } = key;

    /// <summary>Its last report.</summary>
    public ConnectionReport Last { get; set; } = initial;

    /// <summary>Leases held on it.</summary>
    public int Leases { get; set; }

    /// <summary>When it became lease-free, or null while leased.</summary>
    public DateTimeOffset? IdleSince { get; set; }

    /// <summary>When its TTL (with jitter) runs out, set once it is open.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Whether this pool activation has granted a lease on it.</summary>
    public bool Granted { get; set; }

    /// <summary>Session mode: the lease booked for a session that an earlier activation of the pool granted, until it ends.</summary>
    public PoolLease? Inherited { get; set; }

    /// <summary>Whether the pool told it to drain (no new leases).</summary>
    public bool Draining { get; set; }

    /// <summary>
    /// Consecutive calls of the pool to open it that failed as calls (its grain could not be reached or activated, for
    /// example while the grain directory is unavailable). Nobody else reconnects or reports on such a connection: the pool
    /// calls <c>Open</c> again at each maintenance tick while this is above 0.
    /// </summary>
    public int OpenFailures { get; set; }

    /// <summary>Whether the pool's call to open it is under way.</summary>
    public bool OpenPending { get; set; }

    /// <summary>It asked to be rotated (it reports that once), and the pool has not drained it yet.</summary>
    public bool RotationDue { get; set; }

    /// <summary>
    /// Due for a routine drain (rotation, TTL), with its reason and the log's detail: it serves on until a replacement is
    /// usable, then drains, so that no request waits for the replacement's handshake (make before break).
    /// </summary>
    public (RecycleReason Reason, string Detail)? Retirement { get; set; }

    /// <summary>Whether it may take new leases now.</summary>
    public bool Usable => !Draining && Last.State is ConnectionState.Ready or ConnectionState.Active or ConnectionState.Idle && Last.Health != ConnectionHealth.Unhealthy;
}
