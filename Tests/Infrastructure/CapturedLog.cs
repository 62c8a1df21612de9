using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// Keeps the log of in-process hosts (the test silos log nowhere else), for assertions on what they logged and so that a
/// failing test can say what the hosts warned about. Bounded: after <see cref="Capacity"/> entries the oldest go.
/// </summary>
public sealed class CapturedLog : ILoggerProvider
{
    public const int Capacity = 2_000;

    private readonly ConcurrentQueue<Entry> _entries = new();

    /// <summary>The entries kept, oldest first: level and message (without the exception).</summary>
    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries.Select(e => (e.Level, e.Message))];

    /// <summary>The entries kept as lines (time, level, category, message, exception), oldest first.</summary>
    public IReadOnlyList<string> Lines => [.. _entries.Select(e => e.Line)];

    /// <summary>The lines kept, one per line, or "(nothing logged)".</summary>
    public override string ToString() => _entries.IsEmpty ? "(nothing logged)" : string.Join(Environment.NewLine, Lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(Entry entry)
    {
        _entries.Enqueue(entry);
        while (_entries.Count > Capacity && _entries.TryDequeue(out _))
        {
        }
    }

    private sealed record Entry(LogLevel Level, string Message, string Line);

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {message}{(exception is null ? string.Empty : " " + exception.GetType().Name + ": " + exception.Message)}";
            log.Add(new Entry(logLevel, message, line));
        }
    }
}
