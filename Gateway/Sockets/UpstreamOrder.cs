namespace Conduit.Gateway.Sockets;

/// <summary>
/// Keeps a session socket's pushes behind the answers that the upstream sent before them. Answers come back through
/// the grain calls (connection, agent, gateway) and pushes through the socket's observer, which is the shorter way, so
/// a notification sent right after an answer used to reach the client first (a subscription's first event before the
/// subscription's id). Both carry their place in the upstream's order (1, 2, 3... per session, see
/// <see cref="Grains.AgentAnswer.Sequence"/>); a push is written once every place before it has been written, or
/// once nothing the client asked for is in flight any more (no earlier answer can still come), or after
/// <see cref="MaxHoldback"/> (an answer that will never come: its call failed on the way). Answers are never held:
/// JSON-RPC answers carry their ids, and the observer delivers pushes in order among themselves. Made for a socket when
/// its first numbered message arrives, so request-mode sockets (never numbered) have none. Thread-safe; writes happen
/// under its lock, so that they reach the socket's queue in the order decided here.
/// </summary>
internal sealed class UpstreamOrder(Action<string> write, Func<bool> answersPending, TimeProvider time) : IDisposable
{
    /// <summary>The longest a push waits for an earlier answer.</summary>
    public static readonly TimeSpan MaxHoldback = TimeSpan.FromSeconds(1);

    private readonly object _lock = new();
    private readonly HashSet<long> _writtenAbove = []; // places written above the watermark
    private readonly Queue<(string Message, long Sequence)> _held = new();
    private long _watermark; // every place up to it was written (or given up on)
    private ITimer? _holdback;
    private bool _disposed;

    /// <summary>Pushes waiting for an earlier answer.</summary>
    public int Held
    {
        get { lock (_lock) { return _held.Count; } }
    }

    /// <summary>
    /// Writes an answer (null: nothing to write, a notification's) that the upstream sent at <paramref name="sequences"/>
    /// (one place, or a batch's members' places; 0: not the upstream's), then the pushes it held back.
    /// </summary>
    public void Answer(string? message, ReadOnlySpan<long> sequences)
    {
        lock (_lock)
        {
            if (message is not null)
            {
                write(message);
            }

            foreach (var sequence in sequences)
            {
                Written(sequence);
            }

            Release(force: false);
        }
    }

    /// <summary>Writes a push that the upstream sent at <paramref name="sequence"/> (0: unknown), now or once the answers before it are written.</summary>
    public void Push(string message, long sequence)
    {
        lock (_lock)
        {
            _held.Enqueue((message, sequence));
            Release(force: false);
            if (_held.Count > 0 && !_disposed)
            {
                _holdback ??= time.CreateTimer(static s => ((UpstreamOrder)s!).HoldbackElapsed(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                if (_held.Count == 1)
                {
                    _holdback.Change(MaxHoldback, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    /// <summary>Called when the socket's last request in flight was answered: no earlier answer can come any more.</summary>
    public void NothingInFlight()
    {
        lock (_lock)
        {
            Release(force: false);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _holdback?.Dispose();
            _holdback = null;
        }
    }

    private void HoldbackElapsed()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                Release(force: true);
            }
        }
    }

    /// <summary>Writes held pushes, oldest first, as long as the head may go.</summary>
    private void Release(bool force)
    {
        while (_held.TryPeek(out var head))
        {
            var mayGo = force || head.Sequence <= 0 || _watermark >= head.Sequence - 1 || !answersPending();
            if (!mayGo)
            {
                return;
            }

            _held.Dequeue();
            write(head.Message);
            if (head.Sequence > _watermark + 1)
            {
                // Places before it that were never written are given up on: their answers are not coming.
                _watermark = head.Sequence - 1;
                _writtenAbove.RemoveWhere(s => s <= _watermark);
            }

            Written(head.Sequence);
        }

        _holdback?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void Written(long sequence)
    {
        if (sequence <= _watermark)
        {
            return; // 0 (not the upstream's), or a place given up on
        }

        if (sequence != _watermark + 1)
        {
            _writtenAbove.Add(sequence);
            return;
        }

        _watermark = sequence;
        while (_writtenAbove.Remove(_watermark + 1))
        {
            _watermark++;
        }
    }
}
