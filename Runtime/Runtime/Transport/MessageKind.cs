namespace Conduit.Runtime.Transport;

/// <summary>What a cluster message is.</summary>
internal enum MessageKind
{
    /// <summary>A call that expects a response.</summary>
    Request = 1,
    /// <summary>A call without a response ([OneWay], void observer methods).</summary>
    OneWay = 2,
    /// <summary>The successful result of a request.</summary>
    Response = 3,
    /// <summary>The request failed; carries the exception's type, message and remote stack.</summary>
    Fault = 4,
    /// <summary>The target grain is not here; carries the owner the receiver knows (or none). The caller re-routes.</summary>
    Moved = 5,
    /// <summary>The connecting side's answer to <see cref="Challenge"/>: who is connecting (silo address, or client id), and with a cluster key its proof of it.</summary>
    Hello = 6,
    /// <summary>Answer to <see cref="Hello"/>: the accepting silo's address (and, with a cluster key, its proof of it).</summary>
    HelloAck = 7,
    /// <summary>First frame of the accepting silo on a connection: a fresh nonce that the Hello's proof of the cluster key covers.</summary>
    Challenge = 8,
}
