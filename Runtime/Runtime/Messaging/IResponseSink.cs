namespace Conduit.Runtime.Messaging;

/// <summary>Where the outcome of a request goes: the local caller's pending call, or a remote connection.</summary>
internal interface IResponseSink
{
    /// <summary>Delivers the result (or the exception) of <paramref name="request"/>.</summary>
    void Reply(Message request, object? result, Exception? exception);
}
