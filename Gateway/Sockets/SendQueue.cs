using System.Threading.Tasks.Sources;

namespace Conduit.Gateway.Sockets;

/// <summary>
/// The messages waiting to be written to one client socket, bounded in count and bytes. A full queue means the
/// client does not read fast enough (a slow consumer): enqueueing fails instead of growing memory. One reader (the
/// session's send loop), any number of writers. There is one per socket and most sockets are idle, so it is a lock, a
/// <see cref="Queue{T}"/> that holds no array until something waits, and one reusable waiter: a channel would keep a
/// preallocated segment or four operation objects per socket.
/// </summary>
internal sealed class SendQueue(int capacity, long maxBytes) : IValueTaskSource<bool>
{
    // Wake-ups beyond this many unread ones add nothing: the reader re-checks its close conditions after each entry.
    private const int MaxPendingWakes = 4;

    private readonly Queue<byte[]?> _entries = new(); // also the lock
    private ManualResetValueTaskSourceCore<bool> _reader = new() { RunContinuationsAsynchronously = true };
    private bool _readerWaiting;
    private bool _completed;
    private int _wakes;
    private long _bytes;

    /// <summary>Messages waiting.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count - _wakes;
            }
        }
    }

    /// <summary>Bytes waiting.</summary>
    public long Bytes
    {
        get
        {
            lock (_entries)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Queues a message; false when the queue is full or completed.</summary>
    public bool TryEnqueue(byte[] message)
    {
        lock (_entries)
        {
            if (_completed || _entries.Count - _wakes >= capacity || _bytes + message.Length > maxBytes)
            {
                return false;
            }

            _entries.Enqueue(message);
            _bytes += message.Length;
            ReleaseReader(true);
            return true;
        }
    }

    /// <summary>Wakes the reader without a message (it re-checks its close conditions).</summary>
    public void Wake()
    {
        lock (_entries)
        {
            if (_completed || _wakes >= MaxPendingWakes)
            {
                return;
            }

            _entries.Enqueue(null);
            _wakes++;
            ReleaseReader(true);
        }
    }

    /// <summary>No more messages will come; the reader ends after the queued ones.</summary>
    public void Complete()
    {
        lock (_entries)
        {
            _completed = true;
            ReleaseReader(_entries.Count > 0);
        }
    }

    /// <summary>Waits until something can be read; false once completed and empty. One reader at a time.</summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (_entries)
        {
            if (_entries.Count > 0 || _completed)
            {
                return new ValueTask<bool>(_entries.Count > 0);
            }

            _reader.Reset();
            _readerWaiting = true;
            return new ValueTask<bool>(this, _reader.Version);
        }
    }

    /// <summary>Takes the next entry: a message, or null for a wake-up.</summary>
    public bool TryDequeue(out byte[]? message)
    {
        lock (_entries)
        {
            if (!_entries.TryDequeue(out message))
            {
                return false;
            }

            if (message is null)
            {
                _wakes--;
            }
            else
            {
                _bytes -= message.Length;
            }

            return true;
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _reader.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _reader.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _reader.OnCompleted(continuation, state, token, flags);

    // Under the lock. The reader's continuation runs asynchronously, never inside this lock.
    private void ReleaseReader(bool readable)
    {
        if (_readerWaiting)
        {
            _readerWaiting = false;
            _reader.SetResult(readable);
        }
    }
}
