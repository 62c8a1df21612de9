using Conduit.Runtime.Activations;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Timers;

/// <summary>
/// A timer whose ticks are turns of its activation. The underlying timer is one-shot and re-armed
/// only after a tick has finished, so ticks never overlap; disposal (by the grain or at deactivation)
/// stops it and cancels the token a running tick was given.
/// </summary>
internal sealed partial class GrainTimer : IGrainTimer
{
    private readonly object _lock = new();
    private readonly ActivationData _activation;
    private readonly Func<CancellationToken, Task> _callback;
    private readonly GrainTimerCreationOptions _options;
    private readonly CancellationTokenSource _cts = new();
    private readonly ITimer _timer;
    private TimeSpan _period;
    private bool _tickRunning;
    private bool _disposed;

    public GrainTimer(ActivationData activation, TimeProvider timeProvider, Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
    {
        Validate(options.DueTime, options.Period);
        _activation = activation;
        _callback = callback;
        _options = options;
        _period = options.Period;
        _timer = timeProvider.CreateTimer(static s => ((GrainTimer)s!).OnDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Arms the timer with its due time.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _timer.Change(_options.DueTime, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Change(TimeSpan dueTime, TimeSpan period)
    {
        Validate(dueTime, period);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _period = period;
            if (!_tickRunning)
            {
                _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _timer.Dispose();
        }

        _cts.Cancel();
        _activation.RemoveTimer(this);
    }

    private void OnDue()
    {
        lock (_lock)
        {
            if (_disposed || _tickRunning)
            {
                return;
            }

            _tickRunning = true;
        }

        if (!_activation.TryEnqueue(new TickWorkItem(this)))
        {
            Dispose();
        }
    }

    private async Task RunTickAsync()
    {
        try
        {
            if (!_cts.IsCancellationRequested)
            {
                await _callback(_cts.Token);
            }
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            LogTickFailed(_activation.ActivationServices.GetService(typeof(ILogger<GrainTimer>)) as ILogger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, exception, _activation.GrainId);
        }
        finally
        {
            lock (_lock)
            {
                _tickRunning = false;
                if (!_disposed && _period != Timeout.InfiniteTimeSpan)
                {
                    _timer.Change(_period, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    private static void Validate(TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "The due time must be zero or more, or infinite.");
        }

        if (period <= TimeSpan.Zero && period != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "The period must be positive, or infinite for a single tick.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A timer tick of {GrainId} failed")]
    private static partial void LogTickFailed(ILogger logger, Exception exception, GrainId grainId);

    private sealed class TickWorkItem(GrainTimer timer) : WorkItem
    {
        public override bool IsAlwaysInterleave => timer._options.Interleave;

        public override bool KeepsAlive => timer._options.KeepAlive;

        protected override Task ExecuteAsync(ActivationData activation)
        {
            return timer.RunTickAsync();
        }

        public override void Reject(Exception exception) => timer.Dispose();

        public override string ToString() => "timer tick";
    }
}
