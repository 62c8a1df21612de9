namespace Conduit.Runtime;

/// <summary>What the runtime gives an activation: its identity and its lifecycle controls.</summary>
public interface IGrainContext
{
    /// <summary>The grain's identity.</summary>
    GrainId GrainId { get; }

    /// <summary>A unique id of this activation (a new one after each re-activation).</summary>
    string ActivationId { get; }

    /// <summary>The factory for calls made by this activation.</summary>
    IGrainFactory GrainFactory { get; }

    /// <summary>The services of the silo that hosts the activation.</summary>
    IServiceProvider ActivationServices { get; }

    /// <summary>Deactivates the activation once the current turn has finished.</summary>
    void DeactivateOnIdle();

    /// <summary>
    /// Keeps the activation from idle collection for at least <paramref name="timeSpan"/> (<see cref="TimeSpan.MaxValue"/>:
    /// until told otherwise); a negative span cancels earlier delays, as in Orleans.
    /// </summary>
    void DelayDeactivation(TimeSpan timeSpan);

    /// <summary>Registers a timer whose ticks run as turns of this activation.</summary>
    IGrainTimer RegisterTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options);
}
