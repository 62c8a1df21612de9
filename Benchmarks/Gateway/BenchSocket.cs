using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace Conduit.Benchmarks.Gateway;

/// <summary>One benchmark client socket doing one JSON-RPC request at a time.</summary>
internal sealed class BenchSocket : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[4096];
    private long _nextId;

    private BenchSocket(ClientWebSocket socket) => _socket = socket;

    public static async Task<BenchSocket> ConnectAsync(Uri url, string? bearer = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(url, cts.Token);
        return new BenchSocket(socket);
    }

    /// <summary>Sends an echo request and waits for its answer.</summary>
    public async Task RoundTripAsync()
    {
        var id = ++_nextId;
        var request = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{id}},"method":"echo","params":[{{id}}]}""");
        await _socket.SendAsync(request, WebSocketMessageType.Text, true, CancellationToken.None);
        ValueWebSocketReceiveResult result;
        var length = 0;
        do
        {
            result = await _socket.ReceiveAsync(_buffer.AsMemory(length), CancellationToken.None);
            length += result.Count;
        }
        while (!result.EndOfMessage);

        if (result.MessageType != WebSocketMessageType.Text || _buffer.AsSpan(0, length).IndexOf("\"result\""u8) < 0)
        {
            throw new InvalidOperationException("Unexpected answer: " + Encoding.UTF8.GetString(_buffer, 0, length));
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
