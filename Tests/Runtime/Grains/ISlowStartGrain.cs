using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

/// <summary>Activates only once the probe's gate opens; its one method keeps it alive for good, as a connection grain's Open does.</summary>
public interface ISlowStartGrain : IGrainWithStringKey
{
    Task KeepAliveForGood();
}

public sealed class SlowStartGrain(TestProbe probe) : Grain, ISlowStartGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        probe.Events.Enqueue($"activating {GrainId}");
        await probe.Gate.Task;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Deactivations.Enqueue((GrainId, reason.Code));
        return Task.CompletedTask;
    }

    public Task KeepAliveForGood()
    {
        DelayDeactivation(TimeSpan.MaxValue);
        return Task.CompletedTask;
    }
}
