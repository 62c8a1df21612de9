namespace Conduit.Runtime;

/// <summary>The call could not be delivered: no silo can take it, or the target silo is gone.</summary>
public sealed class SiloUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SiloUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
