namespace Conduit.Runtime;

/// <summary>A stored state record: its serialized bytes and its etag.</summary>
public sealed record StoredState(ReadOnlyMemory<byte> Data, string Etag);

/// <summary>
/// A named state store (memory, Redis). Works on serialized bytes; etags are opaque strings and every
/// write or clear is a compare-and-set on them.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Reads the record of <paramref name="stateName"/> for <paramref name="grainId"/>, or null.</summary>
    Task<StoredState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the record if the stored etag equals <paramref name="expectedEtag"/> (null: nothing stored);
    /// returns the new etag or throws <see cref="InconsistentStateException"/>.
    /// </summary>
    Task<string> WriteAsync(string stateName, GrainId grainId, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken);

    /// <summary>Deletes the record if the stored etag equals <paramref name="expectedEtag"/>, else throws <see cref="InconsistentStateException"/>.</summary>
    Task ClearAsync(string stateName, GrainId grainId, string? expectedEtag, CancellationToken cancellationToken);
}
