using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

public interface ITimerGrain : IGrainWithStringKey
{
    /// <summary>Starts a timer whose ticks wait on the probe's gate.</summary>
    Task StartTimer(TimeSpan period);

    Task Deactivate();
}

public sealed class TimerGrain(TestProbe probe) : Grain, ITimerGrain
{
    public Task StartTimer(TimeSpan period)
    {
        RegisterGrainTimer(TickAsync, period, period);
        return Task.CompletedTask;
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Deactivations.Enqueue((GrainId, reason.Code));
        return Task.CompletedTask;
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref probe.TickCount);
        var running = Interlocked.Increment(ref probe.TicksRunning);
        probe.MaxTicksRunning = Math.Max(probe.MaxTicksRunning, running);
        try
        {
            await probe.Gate.Task;
        }
        finally
        {
            Interlocked.Decrement(ref probe.TicksRunning);
        }
    }
}
