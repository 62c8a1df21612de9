using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Conduit.Runtime.Transport;

/// <summary>
/// One TCP connection carrying length-prefixed frames (4-byte little-endian length, then the payload)
/// in both directions. Any number of senders may queue frames at once; one write loop batches them
/// into the socket and flushes when the queue runs dry, one read loop hands each received frame to
/// the owner's callback. The connection owns both loops and its socket; <see cref="DisposeAsync"/>
/// stops and awaits them.
/// </summary>
internal sealed class FrameConnection : IAsyncDisposable
{
    private const int FlushThreshold = 64 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly Channel<ReadOnlyMemory<byte>> _queue = Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _maxFrameSize;
    private FrameHandler? _onFrame;
    private Action<FrameConnection, Exception?>? _onClosed;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private int _closing;

    /// <summary>Receives one frame; the payload is valid only during the call.</summary>
    public delegate void FrameHandler(FrameConnection connection, in ReadOnlySequence<byte> payload);

    /// <summary>Wraps a connected socket; call <see cref="Start"/> to begin reading and writing.</summary>
    public FrameConnection(Socket socket, int maxFrameSize)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _maxFrameSize = maxFrameSize;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        RemoteEndPoint = socket.RemoteEndPoint?.ToString() ?? "?";
    }

    /// <summary>The peer's endpoint, for logs.</summary>
    public string RemoteEndPoint { get; }

    /// <summary>Completes when the connection has closed, with the error that closed it (null: closed on purpose or by the peer).</summary>
    public Task<Exception?> Closed => _closed.Task;

    /// <summary>Whether the connection is closed or closing.</summary>
    public bool IsClosed => Volatile.Read(ref _closing) != 0;

    /// <summary>Free-form state of the owner (the peer's identity after a handshake).</summary>
    public object? Tag { get; set; }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> within <paramref name="timeout"/>.</summary>
    public static async Task<FrameConnection> ConnectAsync(string host, int port, int maxFrameSize, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            await socket.ConnectAsync(host, port, cts.Token);
            return new FrameConnection(socket, maxFrameSize);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts the read and write loops.</summary>
    public void Start(FrameHandler onFrame, Action<FrameConnection, Exception?> onClosed)
    {
        _onFrame = onFrame;
        _onClosed = onClosed;
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues one frame; false if the connection is closed (the frame is dropped).</summary>
    public bool TrySend(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > _maxFrameSize)
        {
            throw new InvalidOperationException($"Frame of {payload.Length} bytes exceeds the limit of {_maxFrameSize} bytes.");
        }

        return _queue.Writer.TryWrite(payload);
    }

    /// <summary>Closes the connection (pending frames are dropped) and awaits both loops.</summary>
    public async ValueTask DisposeAsync()
    {
        Close(null);
        await Task.WhenAll(_readLoop, _writeLoop).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(_stopping.Token);
                var buffer = result.Buffer;
                while (TryReadFrame(ref buffer, out var payload))
                {
                    _onFrame!(this, payload);
                }

                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await CompleteQuietlyAsync(() => _reader.CompleteAsync());
        }

        Close(error);
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 0 || length > _maxFrameSize)
        {
            throw new InvalidDataException($"Received a frame of {length} bytes; the limit is {_maxFrameSize}.");
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        payload = buffer.Slice(4, length);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private async Task WriteLoopAsync()
    {
        Exception? error = null;
        try
        {
            var reader = _queue.Reader;
            while (await reader.WaitToReadAsync(_stopping.Token))
            {
                var batch = Drain(reader);
                if (batch > 1)
                {
                    // Under load, let the senders that are running right now add their frames to this write.
                    await Task.Yield();
                    Drain(reader);
                }

                await _writer.FlushAsync(_stopping.Token);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            await CompleteQuietlyAsync(() => _writer.CompleteAsync());
        }

        Close(error);
    }

    private static async Task CompleteQuietlyAsync(Func<ValueTask> complete)
    {
        try
        {
            await complete();
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or SocketException or OperationCanceledException)
        {
            // The socket is already closed: unflushed bytes are dropped, as for any closed connection.
        }
    }

    private int Drain(ChannelReader<ReadOnlyMemory<byte>> reader)
    {
        var count = 0;
        while (_writer.UnflushedBytes < FlushThreshold && reader.TryRead(out var payload))
        {
            var span = _writer.GetSpan(4);
            BinaryPrimitives.WriteInt32LittleEndian(span, payload.Length);
            _writer.Advance(4);
            _writer.Write(payload.Span);
            count++;
        }

        return count;
    }

    private void Close(Exception? error)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        _stopping.Cancel();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _stream.Dispose();
        _closed.TrySetResult(error);
        _onClosed?.Invoke(this, error);
    }
}
