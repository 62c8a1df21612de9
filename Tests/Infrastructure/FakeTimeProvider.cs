namespace Conduit.Tests.Infrastructure;

/// <summary>
/// A clock that moves only when told to. Timers created from it fire, in due order, inside
/// <see cref="Advance"/>; their callbacks run on the caller's thread.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now;
    private long _ticks;

    /// <summary>Creates the clock at 2026-01-01 UTC.</summary>
    public FakeTimeProvider() : this(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) { }

    /// <summary>Creates the clock at <paramref name="start"/>.</summary>
    public FakeTimeProvider(DateTimeOffset start) => _now = start;

    /// <summary>How many timers are armed (due at a finite time).</summary>
    public int ArmedTimers
    {
        get { lock (_lock) { return _timers.Count(t => t.DueAt is not null); } }
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) { return _now; }
    }

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp()
    {
        lock (_lock) { return _ticks; }
    }

    /// <summary>Moves the clock forward, firing every timer that falls due, in order.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        long target;
        lock (_lock) { target = _ticks + by.Ticks; }
        while (true)
        {
            FakeTimer? next;
            lock (_lock)
            {
                next = _timers.Where(t => t.DueAt is { } due && due <= target).MinBy(t => t.DueAt);
                if (next is null)
                {
                    _now += TimeSpan.FromTicks(target - _ticks);
                    _ticks = target;
                    return;
                }

                var dueAt = next.DueAt!.Value;
                _now += TimeSpan.FromTicks(dueAt - _ticks);
                _ticks = dueAt;
                next.DueAt = next.Period is { } period ? dueAt + Math.Max(1, period.Ticks) : null;
            }

            next.Fire();
        }
    }

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        lock (_lock) { _timers.Add(timer); }
        return timer;
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueAt { get; set; }

        public TimeSpan? Period { get; set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._ticks + dueTime.Ticks;
                Period = period == Timeout.InfiniteTimeSpan || period == TimeSpan.Zero ? null : period;
            }

            return true;
        }

        public void Dispose()
        {
            lock (owner._lock)
            {
                DueAt = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
