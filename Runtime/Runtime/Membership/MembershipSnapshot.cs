namespace Conduit.Runtime.Membership;

/// <summary>The whole membership table as read at one moment, with its version for compare-and-set.</summary>
/// <param name="Entries">All rows, dead ones included.</param>
/// <param name="Version">Incremented by every status change (not by heartbeats).</param>
public sealed record MembershipSnapshot(IReadOnlyList<MembershipEntry> Entries, long Version)
{
    /// <summary>An empty table at version 0.</summary>
    public static MembershipSnapshot Empty { get; } = new([], 0);

    /// <summary>The row of <paramref name="silo"/>, if any.</summary>
    public MembershipEntry? Find(SiloAddress silo) => Entries.FirstOrDefault(e => e.Silo == silo);
}
