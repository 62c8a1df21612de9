using System.Reflection;

namespace Conduit.Runtime.Transport;

/// <summary>One message between silos, or between a silo and a client; encoded by <see cref="MessageCodec"/>.</summary>
internal sealed class ClusterMessage
{
    /// <summary>What it is.</summary>
    public MessageKind Kind { get; init; }

    /// <summary>Correlates a response with its request (0 for one-way and hello).</summary>
    public long Id { get; init; }

    /// <summary>Request: "g:type/key" for a grain, "o:clientId/objectId" for an observer.</summary>
    public string? Target { get; init; }

    /// <summary>Request: the interface method called.</summary>
    public MethodInfo? Method { get; init; }

    /// <summary>Request: the arguments, serialized against the method's parameter types.</summary>
    public object?[]? Arguments { get; init; }

    /// <summary>Request: the call chain (grain ids of non-reentrant callers waiting on this call), for deadlock detection.</summary>
    public IReadOnlyList<string>? CallChain { get; init; }

    /// <summary>Request: milliseconds the caller will wait; the receiver drops work it can no longer answer in time.</summary>
    public long TimeoutMs { get; init; }

    /// <summary>Response: the result (null for Task or when the result is null).</summary>
    public object? Result { get; init; }

    /// <summary>Fault: the exception's full type name.</summary>
    public string? ErrorType { get; init; }

    /// <summary>Fault: the exception's message.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>Fault: the stack trace on the remote side.</summary>
    public string? ErrorStack { get; init; }

    /// <summary>Response (sending side only, not on the wire): the declared type the result is serialized as.</summary>
    public Type? ResultType { get; init; }

    /// <summary>Receiving side only: why the message could not be fully decoded (unknown method, bad argument), or null.</summary>
    public string? DecodeError { get; init; }

    /// <summary>Moved: the owner ("host:port@gen") or null; Hello/HelloAck: the sender's silo address or client id; Challenge: the nonce.</summary>
    public string? Address { get; init; }

    /// <summary>Hello/HelloAck: the proof of the cluster key (<see cref="ClusterKeyProof"/>), or null without a key. On the wire as the target.</summary>
    public string? Proof
    {
        get => Target;
        init => Target = value;
    }
}
