using System.Net.Sockets;
using Conduit.Runtime;
using Conduit.Runtime.Cluster;

namespace Conduit.Gateway.Availability;

/// <summary>
/// Tells a failure of the cluster to serve a call now (a silo crashed and not yet declared dead, a connection
/// refused, Redis unreachable, a response timeout) from a genuine error: the first is answered 503 with
/// Retry-After before an upgrade and -32004 on an open socket, the second 500 / -32603.
/// </summary>
internal static class ClusterFailures
{
    private static readonly Type[] UnavailableTypes =
    [
        typeof(SiloUnavailableException), typeof(RedisUnavailableException), typeof(TimeoutException), typeof(SocketException),
    ];

    /// <summary>Whether <paramref name="exception"/> (or what it wraps) says the cluster cannot serve the call right now.</summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is AggregateException aggregate)
            {
                return aggregate.InnerExceptions.Any(IsUnavailable);
            }

            // A remote failure arrives as a GrainCallException that names the original type.
            if (UnavailableTypes.Any(t => t.IsInstanceOfType(e) || (e is GrainCallException remote && remote.OriginalTypeName == t.FullName)))
            {
                return true;
            }
        }

        return false;
    }
}
