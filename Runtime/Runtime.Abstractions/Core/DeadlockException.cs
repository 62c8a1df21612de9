namespace Conduit.Runtime;

/// <summary>A call would wait on itself: a non-reentrant grain in the call chain was called again.</summary>
public sealed class DeadlockException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeadlockException(string message) : base(message) { }
}
