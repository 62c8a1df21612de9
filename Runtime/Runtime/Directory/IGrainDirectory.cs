using Conduit.Runtime.Membership;

namespace Conduit.Runtime.Directory;

/// <summary>
/// The cluster's map of grain -> activation, the arbiter of "at most one activation per grain".
/// Entries whose silo is dead in the membership table count as absent.
/// </summary>
public interface IGrainDirectory
{
    /// <summary>
    /// Registers <paramref name="address"/> unless a live silo already holds the grain; returns the
    /// entry that holds afterwards (equal to <paramref name="address"/> when this call won).
    /// </summary>
    Task<GrainAddress> RegisterAsync(GrainAddress address, CancellationToken cancellationToken);

    /// <summary>Deletes the entry only if it is still <paramref name="address"/>; returns whether it did.</summary>
    Task<bool> UnregisterAsync(GrainAddress address, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the entries that <paramref name="deadSilo"/> still owns (it died without unregistering them); entries
    /// another silo has taken over since are kept. Returns how many were deleted. Called once a silo is declared dead.
    /// </summary>
    Task<int> UnregisterSiloAsync(SiloAddress deadSilo, CancellationToken cancellationToken);

    /// <summary>The entry of <paramref name="grain"/> if its silo is not dead, else null.</summary>
    Task<GrainAddress?> LookupAsync(GrainId grain, CancellationToken cancellationToken);
}
