using Conduit.Runtime.Messaging;

namespace Conduit.Runtime.Activations;

/// <summary>
/// The activation and call chain of the turn that is running, carried by an <see cref="AsyncLocal{T}"/>
/// through the turn's awaits, so that outgoing calls can extend the chain.
/// </summary>
internal sealed record RequestContext(ActivationData Activation, CallChain? CallChain)
{
    private static readonly AsyncLocal<RequestContext?> _current = new();

    /// <summary>The context of the running turn, or null outside grain code.</summary>
    public static RequestContext? Current
    {
        get => _current.Value;
        set => _current.Value = value;
    }

    /// <summary>The chain an outgoing call from this turn carries: the incoming chain plus this grain.</summary>
    public CallChain OutgoingChain() => CallChain.Extend(CallChain, Activation.GrainId);
}
