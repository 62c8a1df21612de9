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
    private static readonly HashSet<string> UnavailableTypeNames = new(StringComparer.Ordinal)
    {
        typeof(SiloUnavailableException).FullName!,
        typeof(RedisUnavailableException).FullName!,
        typeof(TimeoutException).FullName!,
        typeof(SocketException).FullName!,
    };

    /// <summary>Whether <paramref name="exception"/> (or what it wraps) says the cluster cannot serve the call right now.</summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SiloUnavailableException or RedisUnavailableException or TimeoutException or SocketException:
                    return true;
                case GrainCallException remote when UnavailableTypeNames.Contains(remote.OriginalTypeName):
                    return true;
                case AggregateException aggregate:
                    return aggregate.InnerExceptions.Any(IsUnavailable);
            }
        }

        return false;
    }
}
