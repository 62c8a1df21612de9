namespace Conduit.Runtime;

/// <summary>
/// A grain's persistent state, injected into the grain's constructor with <see cref="PersistentStateAttribute"/>.
/// It is read before <see cref="Grain.OnActivateAsync"/>; writes compare the etag and fail with
/// <see cref="InconsistentStateException"/> when another writer got there first.
/// </summary>
public interface IPersistentState<TState>
    where TState : new()
{
    /// <summary>The state; a new <typeparamref name="TState"/> when nothing is stored.</summary>
    TState State { get; set; }

    /// <summary>The version of the stored state this copy came from; null when nothing is stored.</summary>
    string? Etag { get; }

    /// <summary>Whether a stored record exists.</summary>
    bool RecordExists { get; }

    /// <summary>Reads the stored state, replacing <see cref="State"/>.</summary>
    Task ReadStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Writes <see cref="State"/> if the stored etag still matches.</summary>
    Task WriteStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes the stored state if the stored etag still matches, and resets <see cref="State"/>.</summary>
    Task ClearStateAsync(CancellationToken cancellationToken = default);
}
