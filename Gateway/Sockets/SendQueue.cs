using System.Threading.Channels;

namespace Conduit.Gateway.Sockets;

/// <summary>
/// The messages waiting to be written to one client socket, bounded in count and bytes. A full queue means the
/// client does not read fast enough (a slow consumer): enqueueing fails instead of growing memory.
/// </summary>
internal sealed class SendQueue(int capacity, long maxBytes)
{
    private readonly Channel<byte[]?> _channel = Channel.CreateUnbounded<byte[]?>(new UnboundedChannelOptions { SingleReader = true });
    private int _count;
    private long _bytes;

    /// <summary>Messages waiting.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Bytes waiting.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Queues a message; false when the queue is full or completed.</summary>
    public bool TryEnqueue(byte[] message)
    {
        if (Interlocked.Increment(ref _count) > capacity)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        if (Interlocked.Add(ref _bytes, message.Length) > maxBytes)
        {
            Interlocked.Add(ref _bytes, -message.Length);
            Interlocked.Decrement(ref _count);
            return false;
        }

        if (!_channel.Writer.TryWrite(message))
        {
            Interlocked.Add(ref _bytes, -message.Length);
            Interlocked.Decrement(ref _count);
            return false;
        }

        return true;
    }

    /// <summary>Wakes the reader without a message (it re-checks its close conditions).</summary>
    public void Wake() => _channel.Writer.TryWrite(null);

    /// <summary>No more messages will come; the reader ends after the queued ones.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>Waits until something can be read; false once completed and empty.</summary>
    public ValueTask<bool> WaitToReadAsync() => _channel.Reader.WaitToReadAsync();

    /// <summary>Takes the next entry: a message, or null for a wake-up.</summary>
    public bool TryDequeue(out byte[]? message)
    {
        if (!_channel.Reader.TryRead(out message))
        {
            return false;
        }

        if (message is not null)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Add(ref _bytes, -message.Length);
        }

        return true;
    }
}
