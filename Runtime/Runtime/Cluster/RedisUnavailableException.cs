namespace Conduit.Runtime.Cluster;

/// <summary>Redis did not answer (down, restarting, loading, or slower than the operation timeout).</summary>
public sealed class RedisUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
