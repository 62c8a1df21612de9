using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Conduit.Gateway.JsonRpc;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Quotas;
using Conduit.Grains;
using Microsoft.Extensions.Logging;

namespace Conduit.Gateway.Sockets;

/// <summary>Log messages of a client session.</summary>
internal sealed partial class ClientSession
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Client socket {SocketId} went away: {Reason}")]
    private partial void LogClientGone(string socketId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Client socket {SocketId} failed")]
    private partial void LogSessionFailed(Exception exception, string socketId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client socket {SocketId} sent a message larger than {MaxBytes} bytes; closing with 1009")]
    private partial void LogTooBig(string socketId, int maxBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client socket {SocketId} does not read its answers ({Messages} messages, {Bytes} bytes queued); closing with 1013")]
    private partial void LogSlowConsumer(string socketId, int messages, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client socket {SocketId} ended with {Count} requests still in flight; their answers are dropped")]
    private partial void LogInFlightAbandoned(string socketId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding a message of socket {SocketId} to pool {Pool} failed")]
    private partial void LogForwardFailed(Exception exception, string socketId, string pool);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {Agent} of socket {SocketId} was activated again without its binding; opening it again")]
    private partial void LogAgentReopened(string socketId, string agent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding a message of socket {SocketId} to pool {Pool} failed: the cluster cannot serve it now ({Reason}); answered -32004")]
    private partial void LogForwardUnavailable(string socketId, string pool, string reason);
}
