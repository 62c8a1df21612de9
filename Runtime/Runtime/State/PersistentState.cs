using System.Text.Json;

namespace Conduit.Runtime.State;

/// <summary>A grain's state bound to a store: serialized with System.Text.Json, written with etag compare-and-set.</summary>
internal sealed class PersistentState<TState>(string stateName, GrainId grainId, IGrainStorage storage)
    : IPersistentState<TState>, IStateLoader
    where TState : new()
{
    public TState State { get; set; } = new();

    public string? Etag { get; private set; }

    public bool RecordExists => Etag is not null;

    public async Task ReadStateAsync(CancellationToken cancellationToken = default)
    {
        var stored = await storage.ReadAsync(stateName, grainId, cancellationToken);
        if (stored is null)
        {
            State = new TState();
            Etag = null;
            return;
        }

        State = JsonSerializer.Deserialize<TState>(stored.Data.Span, RuntimeJson.Options) ?? new TState();
        Etag = stored.Etag;
    }

    public async Task WriteStateAsync(CancellationToken cancellationToken = default)
    {
        var data = JsonSerializer.SerializeToUtf8Bytes(State, RuntimeJson.Options);
        Etag = await storage.WriteAsync(stateName, grainId, data, Etag, cancellationToken);
    }

    public async Task ClearStateAsync(CancellationToken cancellationToken = default)
    {
        await storage.ClearAsync(stateName, grainId, Etag, cancellationToken);
        Etag = null;
        State = new TState();
    }
}
