namespace Conduit.Runtime;

/// <summary>A state write or clear found a different etag in the store than the one it read.</summary>
public sealed class InconsistentStateException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InconsistentStateException(string message, string? storedEtag, string? currentEtag)
        : base(message)
    {
        StoredEtag = storedEtag;
        CurrentEtag = currentEtag;
    }

    /// <summary>The etag found in the store.</summary>
    public string? StoredEtag { get; }

    /// <summary>The etag the writer expected.</summary>
    public string? CurrentEtag { get; }
}
