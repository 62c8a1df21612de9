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

    // The empty execution context that thread-pool work items start with; inline turns run under it too,
    // so that grain code never sees the AsyncLocals of the thread that happened to deliver the call.
    private static readonly ExecutionContext EmptyContext = CaptureEmptyContext();

    [ThreadStatic]
    private static ActivationTaskScheduler? _running;

    [ThreadStatic]
    private static ActivationTaskScheduler? _inlineNext;

    private readonly ConcurrentQueue<Task> _queue = new();
    private int _scheduled;

    public ActivationTaskScheduler(object owner) => Owner = owner;

    /// <summary>The activation (or other owner) this scheduler serves.</summary>
    public object Owner { get; }

    /// <summary>The scheduler whose task this thread is running now, if any.</summary>
    public static ActivationTaskScheduler? RunningOnThisThread => _running;

    /// <inheritdoc />
    public override int MaximumConcurrencyLevel => 1;

    /// <summary>
    /// Starts a task on this scheduler, running it at once on the calling thread when that thread runs no
    /// activation and nothing runs or is queued on this one: a request read off the network then costs no
    /// thread hand-off. From inside a grain turn it is always queued, so one grain's turn never runs inside
    /// another's.
    /// </summary>
    public void StartPreferInline(Func<object?, Task> function, object? state)
    {
        _inlineNext = _running is null ? this : null;
        try
        {
            // The task captures no execution context (it runs under the empty one, inline or queued).
            NoFlow.Run(static s => Task.Factory.StartNew(s.function, s.state, CancellationToken.None, TaskCreationOptions.DenyChildAttach, s.Item3), (function, state, this));
        }
        finally
        {
            _inlineNext = null;
        }
    }

    /// <inheritdoc />
    protected override void QueueTask(Task task)
    {
        _queue.Enqueue(task);
        if (_inlineNext == this)
        {
            _inlineNext = null;
            if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            {
                ExecutionContext.Run(EmptyContext, static s => ((IThreadPoolWorkItem)s!).Execute(), this);
                return;
            }
        }

        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private static ExecutionContext CaptureEmptyContext()
    {
        ExecutionContext? captured = null;
        using (ExecutionContext.SuppressFlow())
        {
            var thread = new Thread(() => captured = ExecutionContext.Capture()) { IsBackground = true };
            thread.Start();
            thread.Join();
        }

        return captured ?? throw new InvalidOperationException("Could not capture an empty execution context.");
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
