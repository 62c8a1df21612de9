using System.Collections.Concurrent;

namespace Conduit.Runtime.Scheduling;

/// <summary>
/// Runs the tasks of one activation one at a time, in order, on thread-pool threads. Because grain
/// code starts on this scheduler, every continuation after an await comes back here too
/// (<see cref="TaskScheduler.Current"/> is captured by await): that is what makes a grain
/// single-threaded without locks.
/// </summary>
internal sealed class ActivationTaskScheduler : TaskScheduler, IThreadPoolWorkItem
{
    // A turn runs at most this many queued tasks before yielding its thread, so one busy
    // activation cannot monopolise a thread-pool thread.
    private const int MaxTasksPerSlice = 64;

    [ThreadStatic]
    private static ActivationTaskScheduler? _running;

    private readonly ConcurrentQueue<Task> _queue = new();
    private int _scheduled;

    public ActivationTaskScheduler(object owner) => Owner = owner;

    /// <summary>The activation (or other owner) this scheduler serves.</summary>
    public object Owner { get; }

    /// <summary>The scheduler whose task this thread is running now, if any.</summary>
    public static ActivationTaskScheduler? RunningOnThisThread => _running;

    /// <inheritdoc />
    public override int MaximumConcurrencyLevel => 1;

    /// <inheritdoc />
    protected override void QueueTask(Task task)
    {
        _queue.Enqueue(task);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <inheritdoc />
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued)
    {
        // Inline only when this thread is already running this activation: anything else would run
        // grain code concurrently with the activation's own turn.
        return _running == this && TryExecuteTask(task);
    }

    /// <inheritdoc />
    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    /// <inheritdoc />
    void IThreadPoolWorkItem.Execute()
    {
        var previous = _running;
        _running = this;
        try
        {
            for (var i = 0; i < MaxTasksPerSlice && _queue.TryDequeue(out var task); i++)
            {
                TryExecuteTask(task);
            }
        }
        finally
        {
            _running = previous;
        }

        Volatile.Write(ref _scheduled, 0);
        // Tasks queued after the last dequeue but before the flag was cleared would otherwise wait.
        if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }
}
