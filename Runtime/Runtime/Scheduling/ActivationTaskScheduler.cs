using Conduit.Runtime.Calls;

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

    // Replies produced by the task this thread is running, completed once that task is done (see CompleteDeferred).
    [ThreadStatic]
    private static List<(IPendingCall Call, object? Result, Exception? Exception)>? _deferred;

    // A second list for the replies of a caller continuing inline while the first batch is being completed (callers
    // continue one level deep, so two lists per thread are enough and no reply allocates a list).
    [ThreadStatic]
    private static List<(IPendingCall Call, object? Result, Exception? Exception)>? _spareDeferred;

    // While completing deferred replies: an idle caller activation may continue on this thread (one level deep).
    [ThreadStatic]
    private static bool _inlineCallers;

    [ThreadStatic]
    private static int _inlineDepth;

    private readonly TaskQueue _queue = new();
    private int _scheduled;

    public ActivationTaskScheduler(object owner) => Owner = owner;

    /// <summary>The activation (or other owner) this scheduler serves.</summary>
    public object Owner { get; }

    /// <summary>Whether nothing runs or waits on this scheduler now.</summary>
    public bool IsIdle => Volatile.Read(ref _scheduled) == 0 && _queue.IsEmpty;

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
        var callerContinuation = _inlineCallers && _running is null;
        if (_inlineNext == this || callerContinuation)
        {
            _inlineNext = null;
            if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
            {
                _inlineDepth++;
                try
                {
                    ExecutionContext.Run(EmptyContext, static s => ((IThreadPoolWorkItem)s!).Execute(), this);
                }
                finally
                {
                    _inlineDepth--;
                    _inlineCallers = callerContinuation;
                }

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

    /// <summary>
    /// Called with a reply produced inside a turn on this thread: holds it until the task that produced it is done,
    /// so that it completes when this thread no longer runs that activation and an idle caller activation can then
    /// continue right here instead of waiting for a thread-pool thread. False when the thread runs no activation
    /// (complete it now).
    /// </summary>
    public static bool TryDeferCompletion(IPendingCall call, object? result, Exception? exception)
    {
        if (_running is null)
        {
            return false;
        }

        if (_deferred is null)
        {
            _deferred = _spareDeferred ?? [];
            _spareDeferred = null;
        }

        _deferred.Add((call, result, exception));
        return true;
    }

    private void CompleteDeferred()
    {
        // The batch is taken off the thread: a caller continuing inline below defers its own replies into the spare list.
        var batch = _deferred!;
        _deferred = null;
        _running = null; // between two tasks this activation's state is consistent; the thread is lent out
        _inlineCallers = _inlineDepth == 0;
        try
        {
            foreach (var (call, result, exception) in batch)
            {
                call.Complete(result, exception);
            }
        }
        finally
        {
            _inlineCallers = false;
            _running = this;
            batch.Clear();
            if (_deferred is null)
            {
                _deferred = batch; // reused, so a reply costs no allocation here
            }
            else
            {
                _spareDeferred = batch;
            }
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
        // Entered only by a thread that runs no activation: from the thread pool, or inline (see QueueTask).
        _running = this;
        try
        {
            for (var i = 0; i < MaxTasksPerSlice && _queue.TryDequeue(out var task); i++)
            {
                TryExecuteTask(task);
                if (_deferred is { Count: > 0 })
                {
                    CompleteDeferred();
                }
            }
        }
        finally
        {
            _running = null;
        }

        Volatile.Write(ref _scheduled, 0);
        // Tasks queued after the last dequeue but before the flag was cleared would otherwise wait.
        if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }
}
