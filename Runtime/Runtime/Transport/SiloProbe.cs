using System.Net.Sockets;
using Conduit.Runtime.Membership;

namespace Conduit.Runtime.Transport;

/// <summary>A bare TCP connection attempt to a silo's endpoint, for the membership agent's suspicion of a silent silo.</summary>
internal static class SiloProbe
{
    /// <summary>
    /// Whether the endpoint of <paramref name="silo"/> refuses connections: nothing listens there, so its process is
    /// gone (a silo closes its listener only after it has marked itself dead). False when something accepts (the silo,
    /// or a new process on its port: the death timeout decides then), and when the attempt times out or fails otherwise
    /// (a host that is gone from the network does not refuse; the death timeout decides too).
    /// </summary>
    public static async Task<bool> RefusesConnectionsAsync(SiloAddress silo, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(silo.Host, silo.Port, attempt.Token);
            return false;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode == SocketError.ConnectionRefused;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
