using System.Net.WebSockets;

namespace Conduit.Grains.Sockets;

/// <summary>
/// One write at a time on a <see cref="WebSocket"/> that has a queue and a loop draining it, with a shortcut: a
/// message is written at once on the sender's thread when the socket is free and nothing waits in the queue (the
/// usual case below saturation, which then costs no hand-off to the loop). While anything waits, new messages go
/// behind it, so one sender's messages keep their order. The owner counts what it queues (<see cref="Queued"/>) and
/// its loop takes the gate for each queued message (<see cref="EnterForQueuedAsync"/>, then <see cref="Exit"/>).
/// </summary>
public sealed class WebSocketSendGate
{
    private readonly SemaphoreSlim _gate = new(1, 1); // no wait handle is ever used, so it needs no disposal
    private int _waiting; // queued messages that do not own the socket yet

    /// <summary>A message went into the owner's queue: direct writes wait until the loop has taken it.</summary>
    public void Queued() => Interlocked.Increment(ref _waiting);

    /// <summary>A message counted by <see cref="Queued"/> could not be queued after all.</summary>
    public void NotQueued() => Interlocked.Decrement(ref _waiting);

    /// <summary>The loop's turn for its next queued message: waits for the socket and stops counting the message as waiting.</summary>
    public async ValueTask EnterForQueuedAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Decrement(ref _waiting); // only now: until this message owns the socket, later ones queue behind it
    }

    /// <summary>Waits for the socket without a queued message (a close handshake after the last message).</summary>
    public Task EnterAsync() => _gate.WaitAsync();

    /// <summary>Gives the socket back after <see cref="EnterForQueuedAsync"/> or <see cref="EnterAsync"/>.</summary>
    public void Exit() => _gate.Release();

    /// <summary>
    /// Writes <paramref name="message"/> now when the socket is free and nothing is queued. <see cref="DirectSend.Queue"/>:
    /// the caller must queue it instead. <see cref="DirectSend.Written"/>: written. <see cref="DirectSend.Pending"/>: being
    /// written; <paramref name="completed"/> gets null when done or the socket failure it ended with.
    /// <see cref="DirectSend.Failed"/>: the write failed at once with <paramref name="failure"/>.
    /// <paramref name="isSocketFailure"/> says which exceptions are the socket's (others propagate).
    /// </summary>
    public DirectSend TrySendNow(WebSocket socket, ReadOnlyMemory<byte> message, CancellationToken cancellationToken, Func<Exception, bool> isSocketFailure, Action<Exception?> completed, out Exception? failure)
    {
        failure = null;
        if (Volatile.Read(ref _waiting) > 0 || !_gate.Wait(0))
        {
            return DirectSend.Queue;
        }

        ValueTask send;
        try
        {
            send = socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        catch (Exception e) when (isSocketFailure(e))
        {
            _gate.Release();
            failure = e;
            return DirectSend.Failed;
        }

        if (send.IsCompletedSuccessfully)
        {
            _gate.Release();
            return DirectSend.Written;
        }

        // The peer reads slower than it is written to: finish off this thread, without its scheduler.
        _ = CompleteAsync(send, isSocketFailure, completed);
        return DirectSend.Pending;
    }

    private async Task CompleteAsync(ValueTask send, Func<Exception, bool> isSocketFailure, Action<Exception?> completed)
    {
        Exception? failure = null;
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception e) when (isSocketFailure(e))
        {
            failure = e;
        }
        finally
        {
            _gate.Release();
        }

        completed(failure);
    }
}

/// <summary>What <see cref="WebSocketSendGate.TrySendNow"/> did with a message.</summary>
public enum DirectSend
{
    /// <summary>Nothing: the socket is busy or messages are queued; queue this one too.</summary>
    Queue,

    /// <summary>Written.</summary>
    Written,

    /// <summary>Being written; the completion callback reports the end.</summary>
    Pending,

    /// <summary>The write failed at once.</summary>
    Failed,
}
