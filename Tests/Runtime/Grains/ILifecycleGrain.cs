using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

/// <summary>Reports activation and deactivation to the probe.</summary>
public interface ILifecycleGrain : IGrainWithStringKey
{
    Task<string> GetActivationId();

    Task Deactivate();

    Task DelayDeactivationFor(TimeSpan timeSpan);
}

[CollectionAgeLimit(Minutes = 2)]
public sealed class LifecycleGrain(TestProbe probe) : Grain, ILifecycleGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        probe.Activations.Enqueue(GrainId);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Deactivations.Enqueue((GrainId, reason.Code));
        return Task.CompletedTask;
    }

    public Task<string> GetActivationId() => Task.FromResult(GrainContext.ActivationId);

    public Task DelayDeactivationFor(TimeSpan timeSpan)
    {
        DelayDeactivation(timeSpan);
        return Task.CompletedTask;
    }

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
