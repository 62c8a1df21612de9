using Conduit.Runtime.Messaging;

namespace Conduit.Runtime.Activations;

/// <summary>Something that runs as a turn of an activation: a request, a timer tick, a lifecycle step.</summary>
internal abstract class WorkItem
{
    /// <summary>Whether it may run beside read-only requests.</summary>
    public virtual bool IsReadOnly => false;

    /// <summary>Whether it may run beside anything.</summary>
    public virtual bool IsAlwaysInterleave => false;

    /// <summary>Whether running it counts as use of the activation (for idle collection).</summary>
    public virtual bool KeepsAlive => true;

    /// <summary>The calls waiting on this one, for deadlock detection.</summary>
    public virtual CallChain? CallChain => null;

    /// <summary>Whether the turn may start on the enqueuing thread (see <see cref="Message.MayRunInline"/>).</summary>
    public virtual bool MayRunInline => false;

    /// <summary>
    /// The whole turn: <see cref="ExecuteAsync"/>, then the activation's end-of-turn bookkeeping, which must run exactly
    /// once. An item may override it instead of <see cref="ExecuteAsync"/> to do both in one state machine (every await
    /// on an activation's scheduler costs a scheduled continuation, so a wrapper around a call's own await doubles that
    /// cost).
    /// </summary>
    public virtual async Task RunTurnAsync(ActivationData activation)
    {
        try
        {
            await ExecuteAsync(activation);
        }
        catch (Exception exception)
        {
            activation.ReportTurnFailed(this, exception);
        }
        finally
        {
            activation.OnTurnCompleted(this);
        }
    }

    /// <summary>
    /// The item's work inside the turn, for items that keep the default <see cref="RunTurnAsync"/>; exceptions are the
    /// item's own to report.
    /// </summary>
    protected virtual Task ExecuteAsync(ActivationData activation)
        => throw new NotSupportedException($"{GetType().Name} overrides neither ExecuteAsync nor RunTurnAsync.");

    /// <summary>The item will never run (deadlock, failed activation, shutdown).</summary>
    public abstract void Reject(Exception exception);
}
