using System.Buffers;
using System.Net.WebSockets;
using System.Text;

namespace Conduit.Tests.Infrastructure;

/// <summary>A real <see cref="ClientWebSocket"/> with text helpers and bounded waits, for tests.</summary>
public sealed class TestWebSocketClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();

    private TestWebSocketClient() { }

    /// <summary>The underlying socket.</summary>
    public ClientWebSocket Socket => _socket;

    /// <summary>Connects to <paramref name="url"/> within 10 s.</summary>
    public static async Task<TestWebSocketClient> ConnectAsync(Uri url, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = new TestWebSocketClient();
        configure?.Invoke(client._socket.Options);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await client._socket.ConnectAsync(url, cts.Token);
        }
        catch
        {
            client._socket.Dispose();
            throw;
        }

        return client;
    }

    /// <summary>Sends one text frame.</summary>
    public async Task SendAsync(string text)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
    }

    /// <summary>Receives one text message; throws <see cref="OperationCanceledException"/> after <paramref name="timeout"/> (default 10 s); null when the peer closed.</summary>
    public async Task<string?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new ArrayBufferWriter<byte>();
        ValueWebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(buffer.GetMemory(4096), cts.Token);
            buffer.Advance(result.Count);
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

        return result.MessageType == WebSocketMessageType.Close ? null : Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Aborts the socket.</summary>
    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
