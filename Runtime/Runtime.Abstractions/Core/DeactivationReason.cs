namespace Conduit.Runtime;

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReasonCode
{
    /// <summary>No reason given.</summary>
    None,
    /// <summary>The grain asked for it (<c>DeactivateOnIdle</c>).</summary>
    ApplicationRequested,
    /// <summary>Idle for longer than its collection age.</summary>
    ActivationIdle,
    /// <summary>The silo is shutting down.</summary>
    ShuttingDown,
    /// <summary>Activation failed or a duplicate activation was found.</summary>
    ActivationFailed,
    /// <summary>The directory entry was lost to another silo.</summary>
    DirectoryFailure,
}

/// <summary>Why an activation is being deactivated, with a text for logs.</summary>
public readonly record struct DeactivationReason(DeactivationReasonCode Code, string Text)
{
    /// <inheritdoc />
    public override string ToString() => $"{Code}: {Text}";
}
