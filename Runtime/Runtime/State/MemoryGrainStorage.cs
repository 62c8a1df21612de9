namespace Conduit.Runtime.State;

/// <summary>
/// Grain storage in this process's memory: for a single silo and for tests. Stores serialized bytes,
/// so a grain never shares objects with the store; etags are a counter.
/// </summary>
internal sealed class MemoryGrainStorage : IGrainStorage
{
    private readonly object _lock = new();
    private readonly Dictionary<(string State, GrainId Grain), StoredState> _records = [];
    private long _version;

    public Task<StoredState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_records.GetValueOrDefault((stateName, grainId)));
        }
    }

    public Task<string> WriteAsync(string stateName, GrainId grainId, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            CheckEtag_NeedsLock(stateName, grainId, expectedEtag, "write");
            var etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _records[(stateName, grainId)] = new StoredState(data.ToArray(), etag);
            return Task.FromResult(etag);
        }
    }

    public Task ClearAsync(string stateName, GrainId grainId, string? expectedEtag, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            CheckEtag_NeedsLock(stateName, grainId, expectedEtag, "clear");
            _records.Remove((stateName, grainId));
            return Task.CompletedTask;
        }
    }

    private void CheckEtag_NeedsLock(string stateName, GrainId grainId, string? expectedEtag, string operation)
    {
        var stored = _records.GetValueOrDefault((stateName, grainId))?.Etag;
        if (stored != expectedEtag)
        {
            throw new InconsistentStateException(
                $"Cannot {operation} state '{stateName}' of {grainId}: the store has etag '{stored ?? "(none)"}', the grain expected '{expectedEtag ?? "(none)"}'.",
                stored,
                expectedEtag);
        }
    }
}
