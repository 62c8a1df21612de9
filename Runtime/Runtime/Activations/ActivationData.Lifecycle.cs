using Conduit.Runtime.Timers;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Activations;

internal sealed partial class ActivationData
{
    private async Task ActivateAsync()
    {
        using var cts = new CancellationTokenSource(_runtime.Options.ResponseTimeout, _runtime.TimeProvider);
        try
        {
            var (instance, states) = _runtime.Activator.Create(GrainClass, this);
            Instance = instance;
            foreach (var state in states)
            {
                await state.ReadStateAsync(cts.Token);
            }

            if (instance is Grain grain)
            {
                await grain.OnActivateAsync(cts.Token);
            }
        }
        catch (Exception exception)
        {
            LogActivationFailed(_runtime.Logger, exception, GrainId);
            var (failed, timers) = Invalidate();
            timers.ForEach(t => t.Dispose());
            _runtime.Catalog.OnDeactivated(this);
            SignalDeactivated();
            foreach (var item in failed)
            {
                item.Reject(exception);
            }

            return;
        }

        List<WorkItem>? toStart = null;
        var deactivate = false;
        lock (_lock)
        {
            _state = ActivationState.Valid;
            _lastUsed = _runtime.TimeProvider.GetTimestamp();
            if (_deactivateAfterActivation)
            {
                // Asked to go while activating: the calls that waited go to a new activation (or are refused, when the
                // silo is shutting down) once this one is gone, like calls that reach any deactivating activation.
                _state = ActivationState.Deactivating;
                deactivate = TryBeginDeactivationTurn_NeedsLock();
            }
            else
            {
                toStart = DequeueRunnable_NeedsLock();
                if (toStart is null && _deactivateWhenIdle)
                {
                    _state = ActivationState.Deactivating;
                    deactivate = TryBeginDeactivationTurn_NeedsLock();
                }
            }
        }

        toStart?.ForEach(next => StartTurn(next));
        if (deactivate)
        {
            StartTurn(new DeactivateWorkItem());
        }
    }

    private async Task FinishDeactivationAsync()
    {
        DeactivationReason reason;
        lock (_lock) { reason = _deactivationReason; }

        if (Instance is Grain grain)
        {
            using var cts = new CancellationTokenSource(_runtime.Options.ResponseTimeout, _runtime.TimeProvider);
            try
            {
                await grain.OnDeactivateAsync(reason, cts.Token);
            }
            catch (Exception exception)
            {
                LogDeactivationFailed(_runtime.Logger, exception, GrainId);
            }
        }

        var (waiting, timers) = Invalidate();
        timers.ForEach(t => t.Dispose());
        if (Instance is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else if (Instance is IDisposable disposable)
        {
            disposable.Dispose();
        }

        _runtime.Catalog.OnDeactivated(this);
        LogDeactivated(_runtime.Logger, GrainId, reason.ToString());
        SignalDeactivated();

        // Requests that arrived while it was deactivating go to a new activation.
        foreach (var item in waiting.OfType<RequestWorkItem>())
        {
            _runtime.Catalog.Reroute(item.Message);
        }
    }

    /// <summary>Marks the activation gone and hands back what waited on it and its timers.</summary>
    private (List<WorkItem> Waiting, List<GrainTimer> Timers) Invalidate()
    {
        lock (_lock)
        {
            _state = ActivationState.Invalid;
            List<WorkItem> waiting = [.. _waiting];
            _waiting.Clear();
            var timers = _timers ?? [];
            _timers = null;
            return (waiting, timers);
        }
    }

    /// <summary>Completes <see cref="Deactivated"/>: for those already waiting, and for anyone who asks from now on.</summary>
    private void SignalDeactivated()
    {
        TaskCompletionSource? waiting;
        lock (_lock)
        {
            _gone = true;
            waiting = _deactivated;
        }

        waiting?.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Activation of {GrainId} failed")]
    private static partial void LogActivationFailed(ILogger logger, Exception exception, GrainId grainId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OnDeactivateAsync of {GrainId} failed")]
    private static partial void LogDeactivationFailed(ILogger logger, Exception exception, GrainId grainId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Deactivated {GrainId} ({Reason})")]
    private static partial void LogDeactivated(ILogger logger, GrainId grainId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A turn of {GrainId} failed outside its own error handling: {Item}")]
    private static partial void LogTurnFailed(ILogger logger, Exception exception, GrainId grainId, string? item);
}
