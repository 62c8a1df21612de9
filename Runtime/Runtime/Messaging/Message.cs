using Conduit.Runtime.Metadata;

namespace Conduit.Runtime.Messaging;

/// <summary>A request to a grain or an observer, with the arguments already materialised as objects.</summary>
internal sealed class Message
{
    public Message(long id, GrainId target, GrainMethod method, object?[] arguments, CallChain? callChain, IResponseSink? replyTo)
    {
        Id = id;
        Target = target;
        Method = method;
        Arguments = arguments;
        CallChain = callChain;
        ReplyTo = replyTo;
    }

    /// <summary>The caller's id of the call (unique per caller runtime).</summary>
    public long Id { get; }

    /// <summary>The addressed grain or observer.</summary>
    public GrainId Target { get; }

    /// <summary>The method called.</summary>
    public GrainMethod Method { get; }

    /// <summary>The arguments.</summary>
    public object?[] Arguments { get; }

    /// <summary>The grains waiting on this call, for deadlock detection; null for calls from outside any grain.</summary>
    public CallChain? CallChain { get; }

    /// <summary>Where the result goes; null for one-way calls.</summary>
    public IResponseSink? ReplyTo { get; }

    /// <summary>
    /// Whether its turn may start on the thread that delivers it when the activation is idle: set for requests that
    /// arrive from the network, whose reader thread runs no grain and has nothing better to do. Local calls are
    /// always queued, so that a caller never runs a callee's turn on its own thread.
    /// </summary>
    public bool MayRunInline { get; init; }

    /// <summary>How many times the message was re-routed (to a new activation); bounded to avoid loops.</summary>
    public int ForwardCount { get; set; }

    /// <summary>Sends the outcome to the caller, if it waits for one.</summary>
    public void Reply(object? result, Exception? exception) => ReplyTo?.Reply(this, result, exception);

    /// <inheritdoc />
    public override string ToString() => $"#{Id} {Target}.{Method.Name}";
}
