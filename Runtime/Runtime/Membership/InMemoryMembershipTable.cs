namespace Conduit.Runtime.Membership;

/// <summary>The membership table of a single process (or of several silos in one test process).</summary>
internal sealed class InMemoryMembershipTable : IMembershipTable
{
    private readonly object _lock = new();
    private readonly Dictionary<SiloAddress, MembershipEntry> _rows = [];
    private long _version;

    public Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(new MembershipSnapshot(_rows.Values.ToList(), _version));
        }
    }

    public Task<bool> TryWriteAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_version != expectedVersion
                || (_rows.TryGetValue(entry.Silo, out var existing) && existing.Status == SiloStatus.Dead && entry.Status != SiloStatus.Dead))
            {
                return Task.FromResult(false);
            }

            _rows[entry.Silo] = entry;
            _version++;
            return Task.FromResult(true);
        }
    }

    public Task<SiloStatus?> HeartbeatAsync(SiloAddress silo, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_rows.TryGetValue(silo, out var row))
            {
                return Task.FromResult<SiloStatus?>(null);
            }

            if (row.Status != SiloStatus.Dead)
            {
                _rows[silo] = row with { IAmAliveTime = now };
            }

            return Task.FromResult<SiloStatus?>(row.Status);
        }
    }

    public Task<int> CleanupDeadAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var dead = _rows.Values.Where(r => r.Status == SiloStatus.Dead && r.IAmAliveTime < before).Select(r => r.Silo).ToList();
            foreach (var silo in dead)
            {
                _rows.Remove(silo);
            }

            if (dead.Count > 0)
            {
                _version++;
            }

            return Task.FromResult(dead.Count);
        }
    }
}
