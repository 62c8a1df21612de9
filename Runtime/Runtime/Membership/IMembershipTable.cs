namespace Conduit.Runtime.Membership;

/// <summary>
/// The membership table (memory or Redis). Status changes are compare-and-set on the table version;
/// heartbeats update only the silo's own row and never resurrect a dead one.
/// </summary>
public interface IMembershipTable
{
    /// <summary>Reads all rows and the table version.</summary>
    Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Inserts or replaces the row of <paramref name="entry"/>'s silo if the table is still at
    /// <paramref name="expectedVersion"/>; returns false (nothing written) if it moved on. A dead row
    /// is never changed back to a live status.
    /// </summary>
    Task<bool> TryWriteAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>
    /// Records a heartbeat of <paramref name="silo"/> at <paramref name="now"/> unless its row is dead or
    /// missing; returns the row's status, or null when there is no row (the table was lost).
    /// </summary>
    Task<SiloStatus?> HeartbeatAsync(SiloAddress silo, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes dead rows whose last heartbeat is older than <paramref name="before"/>; returns how many.</summary>
    Task<int> CleanupDeadAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
