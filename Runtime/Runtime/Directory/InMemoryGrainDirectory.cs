using Conduit.Runtime.Membership;

namespace Conduit.Runtime.Directory;

/// <summary>The directory of silos that share one process and one in-memory membership table.</summary>
internal sealed class InMemoryGrainDirectory(IMembershipTable membership) : IGrainDirectory
{
    private readonly object _lock = new();
    private readonly Dictionary<GrainId, GrainAddress> _entries = [];

    public async Task<GrainAddress> RegisterAsync(GrainAddress address, CancellationToken cancellationToken)
    {
        var snapshot = await membership.ReadAllAsync(cancellationToken);
        lock (_lock)
        {
            if (_entries.TryGetValue(address.Grain, out var current) && IsAlive(snapshot, current.Silo))
            {
                return current;
            }

            _entries[address.Grain] = address;
            return address;
        }
    }

    public Task<bool> UnregisterAsync(GrainAddress address, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_entries.TryGetValue(address.Grain, out var current) && current == address && _entries.Remove(address.Grain));
        }
    }

    public Task<int> UnregisterSiloAsync(SiloAddress deadSilo, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var owned = _entries.Values.Where(e => e.Silo == deadSilo).Select(e => e.Grain).ToList();
            owned.ForEach(grain => _entries.Remove(grain));
            return Task.FromResult(owned.Count);
        }
    }

    public async Task<GrainAddress?> LookupAsync(GrainId grain, CancellationToken cancellationToken)
    {
        var snapshot = await membership.ReadAllAsync(cancellationToken);
        lock (_lock)
        {
            return _entries.TryGetValue(grain, out var current) && IsAlive(snapshot, current.Silo) ? current : null;
        }
    }

    private static bool IsAlive(MembershipSnapshot snapshot, SiloAddress silo)
        => snapshot.Find(silo) is { Status: not SiloStatus.Dead };
}
