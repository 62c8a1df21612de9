using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Conduit.Runtime.Transport;

namespace Conduit.Benchmarks.Cluster;

/// <summary>
/// The baseline: request/response over one loopback TCP connection with length-prefixed frames and
/// correlation ids, many requests in flight, no serialization and no runtime (server echoes bytes).
/// </summary>
internal sealed class RawTcpEcho : IAsyncDisposable
{
    private const int MaxFrame = 1 << 20;
    private readonly ConcurrentBag<FrameConnection> _accepted = [];
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pending = new();
    private readonly FrameListener _listener;
    private FrameConnection? _client;
    private long _nextId;

    public RawTcpEcho()
    {
        _listener = new FrameListener(new IPEndPoint(IPAddress.Loopback, 0), MaxFrame, connection =>
        {
            _accepted.Add(connection);
            connection.Start(static (FrameConnection c, in ReadOnlySequence<byte> payload) => c.TrySend(payload.ToArray()), static (_, _) => { });
        });
        _listener.Start();
    }

    public async Task ConnectAsync()
    {
        _client = await FrameConnection.ConnectAsync("127.0.0.1", _listener.EndPoint.Port, MaxFrame, TimeSpan.FromSeconds(5), default);
        _client.Start(OnReply, static (_, _) => { });
    }

    /// <summary>Sends <paramref name="payloadSize"/> bytes plus an 8-byte id and waits for the echo.</summary>
    public Task CallAsync(int payloadSize)
    {
        var id = Interlocked.Increment(ref _nextId);
        var frame = new byte[8 + payloadSize];
        BinaryPrimitives.WriteInt64LittleEndian(frame, id);
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        _client!.TrySend(frame);
        return tcs.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        foreach (var connection in _accepted)
        {
            await connection.DisposeAsync();
        }
    }

    private void OnReply(FrameConnection connection, in ReadOnlySequence<byte> payload)
    {
        Span<byte> idBytes = stackalloc byte[8];
        payload.Slice(0, 8).CopyTo(idBytes);
        if (_pending.TryRemove(BinaryPrimitives.ReadInt64LittleEndian(idBytes), out var tcs))
        {
            tcs.TrySetResult();
        }
    }
}
