using Microsoft.Extensions.Logging;

namespace Conduit.Grains.Agents;

/// <summary>The agent grain's log messages.</summary>
internal sealed partial class AgentGrain
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {Agent}: id {Id} seen within the window; answered without resending")]
    private static partial void LogDuplicate(ILogger logger, string agent, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {Agent}: send to {Connection} failed")]
    private static partial void LogSendFailed(ILogger logger, string agent, string connection, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {Agent}: releasing lease {Lease} failed")]
    private static partial void LogReleaseFailed(ILogger logger, string agent, string lease, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {Agent}: lease {Lease} not released: its pool's silo is unavailable ({Reason})")]
    private static partial void LogReleaseUnreachable(ILogger logger, string agent, string lease, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {Agent}: session lost ({Cause}); its client socket is closed so that the client starts a new session")]
    private static partial void LogSessionLost(ILogger logger, string agent, string cause);
}
