namespace Conduit.Runtime;

/// <summary>
/// Base class of grain implementations. The runtime creates instances through dependency injection,
/// one per activation, and runs their code in turns (never two pieces of one activation at once).
/// </summary>
public abstract class Grain
{
    private IGrainContext? _context;

    /// <summary>Creates the grain; inside an activation the runtime supplies the context.</summary>
    protected Grain()
    {
        _context = GrainContextAccessor.Constructing;
    }

    /// <summary>The activation's context, set by the runtime.</summary>
    public IGrainContext GrainContext
    {
        get => _context ?? throw new InvalidOperationException($"{GetType().Name} was not created by the grain runtime.");
        internal set => _context = value;
    }

    /// <summary>The grain's identity.</summary>
    public GrainId GrainId => GrainContext.GrainId;

    /// <summary>The factory for calls to other grains.</summary>
    protected IGrainFactory GrainFactory => GrainContext.GrainFactory;

    /// <summary>The string key this grain was addressed with.</summary>
    public string GetPrimaryKeyString() => GrainContext.GrainId.Key;

    /// <summary>Runs as the first turn of an activation; a throw fails the activation and the call.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs as the last turn of an activation.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivates this activation after the current turn.</summary>
    protected void DeactivateOnIdle() => GrainContext.DeactivateOnIdle();

    /// <summary>
    /// Keeps this activation from idle collection for at least <paramref name="timeSpan"/> (<see cref="TimeSpan.MaxValue"/>:
    /// until told otherwise); a negative span cancels earlier delays, as in Orleans.
    /// </summary>
    protected void DelayDeactivation(TimeSpan timeSpan) => GrainContext.DelayDeactivation(timeSpan);

    /// <summary>Registers a timer whose ticks are turns of this activation; it stops at deactivation.</summary>
    protected IGrainTimer RegisterGrainTimer<TState>(Func<TState, CancellationToken, Task> callback, TState state, GrainTimerCreationOptions options)
        => GrainContext.RegisterTimer(callback, state, options);

    /// <summary>Registers a timer with a due time and a period.</summary>
    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, TimeSpan dueTime, TimeSpan period)
        => GrainContext.RegisterTimer(static (cb, ct) => cb(ct), callback, new GrainTimerCreationOptions(dueTime, period));

    /// <summary>Registers a timer with options.</summary>
    protected IGrainTimer RegisterGrainTimer(Func<CancellationToken, Task> callback, GrainTimerCreationOptions options)
        => GrainContext.RegisterTimer(static (cb, ct) => cb(ct), callback, options);
}
