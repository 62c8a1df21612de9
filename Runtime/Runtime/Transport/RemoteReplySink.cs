using Conduit.Runtime.Cluster;
using Conduit.Runtime.Messaging;

namespace Conduit.Runtime.Transport;

/// <summary>Sends the outcome of a request that came over <paramref name="connection"/> back to its caller.</summary>
internal sealed class RemoteReplySink(ClusterTransport transport, FrameConnection connection) : IResponseSink
{
    public void Reply(Message request, object? result, Exception? exception)
    {
        ClusterMessage reply;
        if (exception is GrainMovedException moved)
        {
            reply = new ClusterMessage { Kind = MessageKind.Moved, Id = request.Id, Address = moved.Owner?.ToString() };
        }
        else if (exception is not null)
        {
            reply = Fault(request.Id, exception);
        }
        else
        {
            var resultType = request.Method.ResultType == typeof(void) ? null : request.Method.ResultType;
            reply = new ClusterMessage { Kind = MessageKind.Response, Id = request.Id, Result = result, ResultType = resultType };
        }

        try
        {
            transport.Send(connection, reply);
        }
        catch (Exception serializationError) when (exception is null)
        {
            transport.Send(connection, Fault(request.Id, new InvalidOperationException(
                $"The result of {request} could not be serialized: {serializationError.Message}", serializationError)));
        }
    }

    private static ClusterMessage Fault(long id, Exception exception) => new()
    {
        Kind = MessageKind.Fault,
        Id = id,
        ErrorType = exception is GrainCallException remote ? remote.OriginalTypeName : exception.GetType().FullName,
        ErrorMessage = exception is GrainCallException r ? r.Message[(r.OriginalTypeName.Length + 2)..] : exception.Message,
        ErrorStack = exception.StackTrace,
    };
}
