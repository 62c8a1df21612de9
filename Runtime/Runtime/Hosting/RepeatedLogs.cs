using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Hosting;

/// <summary>
/// Thins out log entries that repeat once per socket, per message or per grain while something is wrong: a silo that
/// died and is not yet declared dead, a quota grain that cannot be reached, a client that retries with a bad key, Redis
/// down while grains deactivate, a stranger at the silo port. Of each kind the
/// first entry is written, then at most one per <see cref="Interval"/>, and the next one written is preceded by a line
/// that counts those left out. A churn soak with one silo killed wrote about 8,000 such lines in the 10 s before the
/// silo was declared dead, burying the few that said why. The exact counts are in <c>/metrics</c>
/// (<c>conduit_gateway_sockets_rejected_total</c>, <c>conduit_gateway_requests_errors_total</c>). Kinds must come from a small fixed set (not tenant
/// or socket ids): one window is kept per kind for the life of the process. One instance per process (a singleton of the
/// runtime's services), shared by the runtime and the gateway.
/// </summary>
public sealed partial class RepeatedLogs(TimeProvider time, ILogger<RepeatedLogs> logger)
{
    /// <summary>At most one entry of a kind per this interval: 10 s.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether an entry of <paramref name="kind"/> should be written now. When it should and earlier ones were left out,
    /// a line at <paramref name="level"/> (the level of the entries of that kind) says how many, first.
    /// </summary>
    public bool Admit(string kind, LogLevel level = LogLevel.Warning)
    {
        var window = _windows.GetOrAdd(kind, static _ => new Window());
        int skipped;
        long openedAt;
        var now = time.GetTimestamp();
        lock (window)
        {
            if (window.Opened && time.GetElapsedTime(window.OpenedAt, now) < Interval)
            {
                window.Skipped++;
                return false;
            }

            (skipped, openedAt) = (window.Skipped, window.OpenedAt);
            (window.Opened, window.OpenedAt, window.Skipped) = (true, now, 0);
        }

        if (skipped > 0)
        {
            LogSkipped(logger, level, skipped, kind, time.GetElapsedTime(openedAt, now).TotalSeconds);
        }

        return true;
    }

    [LoggerMessage(Message = "{Count} more log entries of the kind '{Kind}' were left out in the last {Seconds:F0} s (one per 10 s is written)")]
    private static partial void LogSkipped(ILogger logger, LogLevel level, int count, string kind, double seconds);

    private sealed class Window
    {
        public bool Opened;
        public long OpenedAt;
        public int Skipped;
    }
}
