using Conduit.Runtime.Membership;

namespace Conduit.Runtime.Cluster;

/// <summary>
/// Internal signal, never seen by grain code or callers: the grain is not on this silo (its owner is
/// <see cref="Owner"/>, or unknown). A remote reply sink turns it into a "moved" message.
/// </summary>
internal sealed class GrainMovedException(SiloAddress? owner) : Exception($"The grain is owned by {owner?.ToString() ?? "another silo"}.")
{
    public SiloAddress? Owner { get; } = owner;
}
