using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// Keeps the log lines of in-process hosts (the test silos log nowhere else), so that a failing test can say what the
/// hosts warned about. Bounded: after <see cref="Capacity"/> lines the oldest go.
/// </summary>
public sealed class CapturedLog : ILoggerProvider
{
    public const int Capacity = 500;

    private readonly ConcurrentQueue<string> _lines = new();

    /// <summary>The lines kept, oldest first.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>The lines kept, one per line, or "(nothing logged)".</summary>
    public override string ToString() => _lines.IsEmpty ? "(nothing logged)" : string.Join(Environment.NewLine, _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > Capacity && _lines.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => log.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception.GetType().Name + ": " + exception.Message)}");
    }
}
