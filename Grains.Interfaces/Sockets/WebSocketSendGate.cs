using System.Net.WebSockets;

namespace Conduit.Grains.Sockets;

/// <summary>
/// One write at a time on a <see cref="WebSocket"/> that has a queue and a loop draining it, with a shortcut: a
/// message is written at once on the sender's thread when the socket is free and nothing waits in the queue (the
/// usual case below saturation, which then costs no hand-off to the loop). While anything waits, new messages go
/// behind it, so one sender's messages keep their order. The owner counts what it queues (<see cref="Queued"/>) and
/// its loop takes the gate for each queued message (<see cref="EnterForQueuedAsync"/>, then <see cref="Exit"/>).
/// <para>There is one per client socket and most sockets are idle, so it is two counters and, only while the loop waits for
/// a direct write to finish, one waiter: a semaphore would be two more objects per socket. Only the owner's loop ever
/// waits (<see cref="EnterForQueuedAsync"/>, <see cref="EnterAsync"/>); direct writers only try.</para>
/// </summary>
public sealed class WebSocketSendGate
{
    private int _held; // 1 while a write owns the socket
    private int _waiting; // queued messages that do not own the socket yet
    private WakeSignal _exited; // the loop waiting for a direct write to finish

    /// <summary>A message went into the owner's queue: direct writes wait until the loop has taken it.</summary>
    public void Queued() => Interlocked.Increment(ref _waiting);

    /// <summary>A message counted by <see cref="Queued"/> could not be queued after all.</summary>
    public void NotQueued() => Interlocked.Decrement(ref _waiting);

    /// <summary>The loop's turn for its next queued message: waits for the socket and stops counting the message as waiting.</summary>
    public async ValueTask EnterForQueuedAsync(CancellationToken cancellationToken = default)
    {
        await EnterAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Decrement(ref _waiting); // only now: until this message owns the socket, later ones queue behind it
    }

    /// <summary>The loop waits for the socket without a queued message (a close handshake after the last message).</summary>
    public ValueTask EnterAsync(CancellationToken cancellationToken = default)
        => TryEnter() ? default : WaitToEnterAsync(cancellationToken);

    /// <summary>Gives the socket back after <see cref="EnterForQueuedAsync"/> or <see cref="EnterAsync"/>.</summary>
    public void Exit()
    {
        Interlocked.Exchange(ref _held, 0);
        _exited.Wake();
    }

    /// <summary>
    /// Writes <paramref name="message"/> now when the socket is free and nothing is queued. <see cref="DirectSend.Queue"/>:
    /// the caller must queue it instead. <see cref="DirectSend.Written"/>: written. <see cref="DirectSend.Pending"/>: being
    /// written; <paramref name="completion"/> is told when it is done, with null or the socket failure it ended with.
    /// <see cref="DirectSend.Failed"/>: the write failed at once with <paramref name="failure"/>.
    /// <paramref name="isSocketFailure"/> says which exceptions are the socket's (others propagate).
    /// </summary>
    public DirectSend TrySendNow(WebSocket socket, ReadOnlyMemory<byte> message, CancellationToken cancellationToken, Func<Exception, bool> isSocketFailure, IDirectSendCompletion completion, out Exception? failure)
    {
        failure = null;
        if (Volatile.Read(ref _waiting) > 0 || !TryEnter())
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
            Exit();
            failure = e;
            return DirectSend.Failed;
        }

        if (send.IsCompletedSuccessfully)
        {
            Exit();
            return DirectSend.Written;
        }

        // The peer reads slower than it is written to: finish off this thread, without its scheduler.
        _ = CompleteAsync(send, isSocketFailure, completion);
        return DirectSend.Pending;
    }

    private bool TryEnter() => Interlocked.CompareExchange(ref _held, 1, 0) == 0;

    private async ValueTask WaitToEnterAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var exited = _exited.Arm();
            if (TryEnter())
            {
                return;
            }

            await exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CompleteAsync(ValueTask send, Func<Exception, bool> isSocketFailure, IDirectSendCompletion completion)
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
            Exit();
        }

        completion.OnDirectSendCompleted(failure);
    }
}

/// <summary>Told how a write that <see cref="WebSocketSendGate.TrySendNow"/> left pending ended.</summary>
public interface IDirectSendCompletion
{
    /// <summary>The write ended: <paramref name="failure"/> is null when it was written, else the socket failure.</summary>
    void OnDirectSendCompleted(Exception? failure);
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
