namespace Conduit.Grains.Sockets;

/// <summary>
/// A wake-up for one waiter, made only while it waits and without a lock. The waiter arms it, checks its condition
/// again and only then awaits; whoever changes that condition does so with an interlocked operation (a full fence) and
/// then calls <see cref="Wake"/>. So either the waiter's second check sees the change or the wake sees the armed
/// waiter: no wake-up is lost. A mutable struct, to be kept in a field (not a copy) of its owner.
/// </summary>
public struct WakeSignal
{
    private TaskCompletionSource? _waiter;

    /// <summary>Arms the signal for the waiter; check the condition again after this, then await the task.</summary>
    public Task Arm()
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _waiter, waiter);
        return waiter.Task;
    }

    /// <summary>Wakes the armed waiter, if any. Call it after the interlocked operation that changed the condition.</summary>
    public void Wake()
    {
        // The caller's interlocked operation already fenced, so a plain read decides; nobody armed is the common case.
        if (Volatile.Read(ref _waiter) is not null)
        {
            Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
        }
    }
}
