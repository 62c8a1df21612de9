using Conduit.Runtime.Messaging;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.Scheduling;
using Conduit.Runtime.Timers;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Activations;

/// <summary>
/// One activation of a grain: its instance, its scheduler, its queue of waiting turns and its
/// lifecycle. One private lock guards the bookkeeping; grain code never runs under it.
/// </summary>
internal sealed partial class ActivationData : IGrainContext
{
    private readonly object _lock = new();
    private readonly Queue<WorkItem> _waiting = new();
    private readonly SiloRuntime _runtime;

    // Made when first needed: most activations (an idle socket's agent, say) never register a timer, are never waited
    // for, and never have their activation id read.
    private List<GrainTimer>? _timers;
    private TaskCompletionSource? _deactivated;
    private bool _gone;
    private string? _activationId;
    private ActivationState _state = ActivationState.Activating;
    private int _running;
    private int _runningWriters;
    private bool _deactivateWhenIdle; // DeactivateOnIdle: the grain's own wish, which its DelayDeactivation cancels
    private bool _deactivateAfterActivation; // Deactivate while activating (shutdown, ...): the runtime's, not cancellable
    private bool _deactivationTurnStarted;
    private DeactivationReason _deactivationReason;
    private long _lastUsed;
    private long _keepAliveUntil;

    public ActivationData(SiloRuntime runtime, GrainClass grainClass, GrainId grainId)
    {
        _runtime = runtime;
        GrainClass = grainClass;
        GrainId = grainId;
        Scheduler = new ActivationTaskScheduler(this);
        _lastUsed = runtime.TimeProvider.GetTimestamp();
    }

    public GrainId GrainId { get; }

    public string ActivationId
    {
        get
        {
            if (Volatile.Read(ref _activationId) is { } id)
            {
                return id;
            }

            Interlocked.CompareExchange(ref _activationId, Guid.NewGuid().ToString("N"), null);
            return _activationId;
        }
    }

    public GrainClass GrainClass { get; }

    public ActivationTaskScheduler Scheduler { get; }

    /// <summary>The grain instance once the activation turn created it.</summary>
    public object? Instance { get; private set; }

    public IGrainFactory GrainFactory => _runtime.Client;

    public IServiceProvider ActivationServices => _runtime.Services;

    /// <summary>Completes when the activation has left the catalog.</summary>
    public Task Deactivated
    {
        get
        {
            lock (_lock)
            {
                return _gone ? Task.CompletedTask : (_deactivated ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    public ActivationState State
    {
        get { lock (_lock) { return _state; } }
    }

    /// <summary>
    /// Whether the activation turn has not finished yet, for code running in this activation's own turns (per outgoing
    /// call, so without the lock): a request turn starts under the lock after the state left Activating, so it sees that.
    /// </summary>
    public bool IsActivating => _state == ActivationState.Activating;

    /// <summary>Starts the activation turn; called once by the catalog after it published the activation.</summary>
    public void Start() => StartTurn(new ActivateWorkItem());

    /// <summary>Accepts a turn; false when the activation is gone and the caller must find a new one.</summary>
    public bool TryEnqueue(WorkItem item)
    {
        bool start;
        lock (_lock)
        {
            if (_state == ActivationState.Invalid)
            {
                return false;
            }

            start = _state == ActivationState.Valid && CanRunNow_NeedsLock(item);
            if (start)
            {
                MarkRunning_NeedsLock(item);
            }
            else if (_state != ActivationState.Deactivating && item.CallChain is { } chain && chain.Contains(GrainId))
            {
                // The activation is busy with a turn that (transitively) waits on this very call.
                start = false;
                item = new RejectedWorkItem(item, new DeadlockException(
                    $"Deadlock: {GrainId} is not reentrant and is already waiting in the call chain {chain} -> {GrainId}."));
            }
            else
            {
                _waiting.Enqueue(item);
                return true;
            }
        }

        if (item is RejectedWorkItem rejected)
        {
            rejected.RejectNow();
        }
        else if (start)
        {
            StartTurn(item, preferInline: item.MayRunInline);
        }

        return true;
    }

    /// <summary>Asks for deactivation; it happens once running turns are done.</summary>
    public void Deactivate(DeactivationReason reason)
    {
        bool startNow;
        lock (_lock)
        {
            if (_state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                return;
            }

            if (_state == ActivationState.Activating)
            {
                // Deactivate right after the activation turn. Not through _deactivateWhenIdle: a call that waited for the
                // activation could run first and cancel that with DelayDeactivation, and a silo's shutdown then waited
                // for this activation until its timeout.
                _deactivateAfterActivation = true;
                _deactivationReason = reason;
                return;
            }

            _state = ActivationState.Deactivating;
            _deactivationReason = reason;
            startNow = TryBeginDeactivationTurn_NeedsLock();
        }

        if (startNow)
        {
            StartTurn(new DeactivateWorkItem());
        }
    }

    /// <summary>Whether the activation has been unused for longer than its collection age.</summary>
    public bool IsIdleLongerThanAge(long now)
    {
        if (GrainClass.CollectionAge == Timeout.InfiniteTimeSpan)
        {
            return false;
        }

        lock (_lock)
        {
            return _state == ActivationState.Valid
                && _running == 0
                && _waiting.Count == 0
                && now >= _keepAliveUntil
                && _runtime.TimeProvider.GetElapsedTime(_lastUsed, now) >= GrainClass.CollectionAge;
        }
    }

    public void DeactivateOnIdle()
    {
        lock (_lock)
        {
            _deactivateWhenIdle = true;
            _deactivationReason = new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "DeactivateOnIdle was called.");
        }
    }

    public void DelayDeactivation(TimeSpan timeSpan)
    {
        lock (_lock)
        {
            if (timeSpan < TimeSpan.Zero)
            {
                // As in Orleans: a negative span cancels earlier delays, and idle collection applies again.
                _keepAliveUntil = 0;
                return;
            }

            _deactivateWhenIdle = false;
            var now = _runtime.TimeProvider.GetTimestamp();
            var ticks = timeSpan.TotalSeconds * _runtime.TimeProvider.TimestampFrequency;
            var until = ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks; // TimeSpan.MaxValue: for good
            _keepAliveUntil = Math.Max(_keepAliveUntil, until);
        }
    }

    public IGrainTimer RegisterTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new GrainTimer(this, _runtime.TimeProvider, (ct) => callback(state, ct), options);
        lock (_lock)
        {
            if (_state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                timer.Dispose();
                return timer;
            }

            (_timers ??= []).Add(timer);
        }

        timer.Start();
        return timer;
    }

    internal void RemoveTimer(GrainTimer timer)
    {
        lock (_lock) { _timers?.Remove(timer); }
    }

    /// <summary>
    /// Runs <paramref name="item"/> as a turn on this activation's scheduler, without the enqueuer's AsyncLocals;
    /// with <paramref name="preferInline"/>, on the calling thread when it runs no grain (see
    /// <see cref="ActivationTaskScheduler.StartPreferInline"/>).
    /// </summary>
    private void StartTurn(WorkItem item, bool preferInline = false)
    {
        if (preferInline)
        {
            Scheduler.StartPreferInline(RunTurn, (this, item));
        }
        else
        {
            NoFlow.Run(static s => Task.Factory.StartNew(RunTurn, s, CancellationToken.None, TaskCreationOptions.DenyChildAttach, s.Item1.Scheduler), (this, item));
        }
    }

    private static Task RunTurn(object? state)
    {
        var (self, work) = ((ActivationData, WorkItem))state!;
        return work.RunTurnAsync(self);
    }

    /// <summary>A turn's work failed in a way its item did not report itself.</summary>
    internal void ReportTurnFailed(WorkItem item, Exception exception) => LogTurnFailed(_runtime.Logger, exception, GrainId, item.ToString());

    /// <summary>
    /// Called once at the end of every turn (by <see cref="WorkItem.RunTurnAsync"/>): ends the turn's request context,
    /// counts it finished and starts what may run next.
    /// </summary>
    internal void OnTurnCompleted(WorkItem item)
    {
        RequestContext.Exit();
        if (item is ActivateWorkItem or DeactivateWorkItem)
        {
            return; // their own code moves the state on
        }

        List<WorkItem>? toStart = null;
        var deactivate = false;
        lock (_lock)
        {
            _running--;
            if (!item.IsReadOnly && !item.IsAlwaysInterleave)
            {
                _runningWriters--;
            }

            if (item.KeepsAlive)
            {
                _lastUsed = _runtime.TimeProvider.GetTimestamp();
            }

            if (_state == ActivationState.Valid)
            {
                toStart = DequeueRunnable_NeedsLock();
                if (toStart is null && _running == 0 && _waiting.Count == 0 && _deactivateWhenIdle)
                {
                    _state = ActivationState.Deactivating;
                }
            }

            if (_state == ActivationState.Deactivating)
            {
                deactivate = TryBeginDeactivationTurn_NeedsLock();
            }
        }

        if (toStart is not null)
        {
            foreach (var next in toStart)
            {
                StartTurn(next);
            }
        }

        if (deactivate)
        {
            StartTurn(new DeactivateWorkItem());
        }
    }

    private bool CanRunNow_NeedsLock(WorkItem item)
        => _running == 0
           || item.IsAlwaysInterleave
           || GrainClass.IsReentrant
           || (item.IsReadOnly && _runningWriters == 0);

    private void MarkRunning_NeedsLock(WorkItem item)
    {
        _running++;
        if (!item.IsReadOnly && !item.IsAlwaysInterleave)
        {
            _runningWriters++;
        }
    }

    private List<WorkItem>? DequeueRunnable_NeedsLock()
    {
        List<WorkItem>? list = null;
        while (_waiting.TryPeek(out var head) && CanRunNow_NeedsLock(head))
        {
            _waiting.Dequeue();
            MarkRunning_NeedsLock(head);
            (list ??= []).Add(head);
        }

        return list;
    }

    private bool TryBeginDeactivationTurn_NeedsLock()
    {
        if (_running > 0 || _deactivationTurnStarted)
        {
            return false;
        }

        _deactivationTurnStarted = true;
        return true;
    }

    /// <summary>The first turn: construct the grain, read its state, run OnActivateAsync.</summary>
    private sealed class ActivateWorkItem : WorkItem
    {
        protected override async Task ExecuteAsync(ActivationData activation) => await activation.ActivateAsync();

        public override void Reject(Exception exception) { }

        public override string ToString() => "activate";
    }

    /// <summary>The last turn: OnDeactivateAsync, stop timers, leave the catalog, re-route what waited.</summary>
    private sealed class DeactivateWorkItem : WorkItem
    {
        protected override async Task ExecuteAsync(ActivationData activation) => await activation.FinishDeactivationAsync();

        public override void Reject(Exception exception) { }

        public override string ToString() => "deactivate";
    }

    /// <summary>An item refused on arrival; its rejection runs outside the lock.</summary>
    private sealed class RejectedWorkItem(WorkItem inner, Exception exception) : WorkItem
    {
        public void RejectNow() => inner.Reject(exception);

        protected override Task ExecuteAsync(ActivationData activation) => Task.CompletedTask;

        public override void Reject(Exception e) => inner.Reject(e);
    }
}
