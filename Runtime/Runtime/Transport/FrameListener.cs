using System.Net;
using System.Net.Sockets;

namespace Conduit.Runtime.Transport;

/// <summary>
/// Accepts TCP connections on one endpoint and hands each to the owner as a <see cref="FrameConnection"/>
/// (not yet started). Owns its accept loop; <see cref="DisposeAsync"/> stops and awaits it.
/// </summary>
internal sealed class FrameListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly int _maxFrameSize;
    private readonly Action<FrameConnection> _onAccepted;
    private readonly CancellationTokenSource _stopping = new();
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    /// <summary>Binds to <paramref name="endPoint"/> (port 0: any free port) and listens.</summary>
    public FrameListener(IPEndPoint endPoint, int maxFrameSize, Action<FrameConnection> onAccepted)
    {
        _maxFrameSize = maxFrameSize;
        _onAccepted = onAccepted;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.Bind(endPoint);
            _socket.Listen(512);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <summary>The bound endpoint (with the real port).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Starts accepting.</summary>
    public void Start() => _acceptLoop = Task.Run(AcceptLoopAsync);

    /// <summary>Stops accepting (connections already handed out stay open) and awaits the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // A connection reset before it was accepted; keep listening.
                continue;
            }

            _onAccepted(new FrameConnection(accepted, _maxFrameSize));
        }
    }
}
