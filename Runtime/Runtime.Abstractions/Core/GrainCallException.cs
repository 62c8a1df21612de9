namespace Conduit.Runtime;

/// <summary>
/// An exception thrown in a grain on another process whose type the caller cannot re-create:
/// carries the original type name, message and the remote stack trace.
/// </summary>
public sealed class GrainCallException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GrainCallException(string originalTypeName, string message, string? remoteStackTrace)
        : base($"{originalTypeName}: {message}")
    {
        OriginalTypeName = originalTypeName;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>The full type name of the exception thrown in the grain.</summary>
    public string OriginalTypeName { get; }

    /// <summary>The stack trace on the remote side.</summary>
    public string? RemoteStackTrace { get; }

    /// <inheritdoc />
    public override string? StackTrace => RemoteStackTrace is null ? base.StackTrace : RemoteStackTrace + Environment.NewLine + "--- end of remote stack ---" + Environment.NewLine + base.StackTrace;
}
