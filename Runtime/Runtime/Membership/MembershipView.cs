namespace Conduit.Runtime.Membership;

/// <summary>What a silo or client currently believes about the cluster (immutable).</summary>
public sealed class MembershipView
{
    /// <summary>Creates a view of <paramref name="snapshot"/>.</summary>
    public MembershipView(MembershipSnapshot snapshot)
    {
        Snapshot = snapshot;
        ActiveSilos = snapshot.Entries.Where(e => e.Status == SiloStatus.Active).Select(e => e.Silo)
            .OrderBy(s => s.ToString(), StringComparer.Ordinal).ToList();
    }

    /// <summary>An empty view.</summary>
    public static MembershipView Empty { get; } = new(MembershipSnapshot.Empty);

    /// <summary>The table it was made from.</summary>
    public MembershipSnapshot Snapshot { get; }

    /// <summary>Silos with status Active, in a stable order; placement chooses among these.</summary>
    public IReadOnlyList<SiloAddress> ActiveSilos { get; }

    /// <summary>The row of <paramref name="silo"/>'s status, or null if the table has no row.</summary>
    public SiloStatus? StatusOf(SiloAddress silo) => Snapshot.Find(silo)?.Status;

    /// <summary>Whether <paramref name="silo"/> is known dead (a missing row is not "known dead").</summary>
    public bool IsDead(SiloAddress silo) => StatusOf(silo) == SiloStatus.Dead;
}
