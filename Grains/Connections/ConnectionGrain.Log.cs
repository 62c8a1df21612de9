using Microsoft.Extensions.Logging;

namespace Conduit.Grains.Connections;

/// <summary>The connection grain's log messages.</summary>
internal sealed partial class ConnectionGrain
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {Connection}: circuit breaker opened for {BreakDuration}; requests go elsewhere")]
    private static partial void LogBreakerOpened(ILogger logger, string connection, TimeSpan breakDuration);

    [LoggerMessage(Message = "Connection {Connection} is open")]
    private static partial void LogConnected(ILogger logger, LogLevel level, string connection);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {Connection}: connect attempt {Attempt} failed: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string connection, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {Connection} lost its socket: {Reason}; reconnecting with backoff")]
    private static partial void LogSocketLost(ILogger logger, string connection, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {Connection} health {Before} -> {After} (last check {LatencyMs} ms, trend {Trend})")]
    private static partial void LogHealthChanged(ILogger logger, string connection, ConnectionHealth before, ConnectionHealth after, double latencyMs, LatencyTrend trend);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {Connection} served {Requests} requests and asks to be rotated")]
    private static partial void LogRotationDue(ILogger logger, string connection, long requests);

    [LoggerMessage(Message = "Connection {Connection} closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, LogLevel level, string connection, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connection {Connection} could not report to its pool")]
    private static partial void LogReportFailed(ILogger logger, string connection, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {Connection} could not report to its pool: the pool's silo is unavailable ({Reason})")]
    private static partial void LogReportUnreachable(ILogger logger, string connection, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Connection {Connection} could not handle its socket's end")]
    private static partial void LogSelfCallFailed(ILogger logger, string connection, Exception exception);
}
