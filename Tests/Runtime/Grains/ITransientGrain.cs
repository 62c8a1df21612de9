using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

/// <summary>
/// A grain that leaves as soon as it is idle after its activation, as a connection grain activated by a late call
/// does; its deactivation takes a moment, so that calls arriving meanwhile meet an activation on its way out.
/// </summary>
public interface ITransientGrain : IGrainWithStringKey
{
    Task<int> Touch();
}

public sealed class TransientGrain : Grain, ITransientGrain
{
    private static int _activations;

    /// <summary>Activations of this class in the process so far.</summary>
    public static int Activations => Volatile.Read(ref _activations);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _activations);
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    // A deactivation that awaits (state written, a socket closed) lets new calls and activations of the grain overtake it.
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
        => Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 6)), cancellationToken);

    public Task<int> Touch() => Task.FromResult(1);
}
