using Conduit.Runtime.Messaging;
using Conduit.Runtime.Scheduling;

namespace Conduit.Runtime.Activations;

/// <summary>
/// The activation and call chain of the turn that is running, carried by an <see cref="AsyncLocal{T}"/>
/// through the turn's awaits, so that outgoing calls can extend the chain. Only turns called from another grain
/// (with a chain) set it: an execution context that carries a value is captured by every continuation of the turn (an
/// allocation per await), and a turn without a chain does not need one, as its outgoing chain is just its own
/// activation, which the scheduler running the code knows.
/// </summary>
internal sealed record RequestContext(ActivationData Activation, CallChain? CallChain)
{
    private static readonly AsyncLocal<RequestContext?> _current = new();

    /// <summary>Starts a turn of <paramref name="activation"/> called in <paramref name="chain"/> (null: from outside grain code, a timer, the lifecycle).</summary>
    public static void Enter(ActivationData activation, CallChain? chain)
    {
        if (chain is not null)
        {
            _current.Value = new RequestContext(activation, chain);
        }
    }

    /// <summary>Ends the turn's context (a no-op, without allocation, for a turn that set none).</summary>
    public static void Exit() => _current.Value = null;

    /// <summary>
    /// The chain an outgoing call from the running code carries: the incoming chain plus this grain, or this grain
    /// alone when the turn has no chain; null outside grain code (including code a grain moved off its scheduler, such
    /// as a <c>Task.Run</c> body in a turn without a chain). A reentrant grain adds itself only while it activates: once
    /// active it accepts every call, so a call coming back to it is never a deadlock and its link would only make the
    /// callee's turn carry a chain (and capture an execution context at every await) for nothing. A chain that passes
    /// through it keeps the grains before it, so a cycle back to a non-reentrant grain is still refused at once.
    /// </summary>
    public static CallChain? OutgoingChain()
    {
        if (_current.Value is { } context)
        {
            return AddsItself(context.Activation) ? CallChain.Extend(context.CallChain, context.Activation.GrainId) : context.CallChain;
        }

        return ActivationTaskScheduler.RunningOnThisThread?.Owner is ActivationData activation && AddsItself(activation)
            ? CallChain.Extend(null, activation.GrainId)
            : null;
    }

    private static bool AddsItself(ActivationData activation)
        => !activation.GrainClass.IsReentrant || activation.IsActivating;
}
