namespace Conduit.Tests.Infrastructure;

/// <summary>
/// A clock that moves only when told to. Timers created from it fire, in due order, inside
/// <see cref="Advance"/>; their callbacks run on the caller's thread.
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private static readonly TimeSpan StepPause = TimeSpan.FromMilliseconds(20);
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

    /// <summary>
    /// Moves the clock forward by <paramref name="by"/> in steps of <paramref name="step"/>, pausing after each so that
    /// the timer turns a step started can finish. A grain timer re-arms only after its tick has run, so one big jump can
    /// fire it once, with whatever time the tick happened to read; steps fire it at every due time.
    /// </summary>
    public async Task AdvanceInStepsAsync(TimeSpan by, TimeSpan step)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += step)
        {
            Advance(step);
            await Task.Delay(StepPause);
        }
    }

    /// <summary>
    /// Moves the clock forward in steps of <paramref name="step"/>, as <see cref="AdvanceInStepsAsync"/> does, until
    /// <paramref name="done"/> holds; returns how far the clock moved. Throws <see cref="TimeoutException"/> once it
    /// has moved <paramref name="limit"/> without the condition holding.
    /// </summary>
    public async Task<TimeSpan> AdvanceUntilAsync(Func<Task<bool>> done, TimeSpan step, TimeSpan limit)
    {
        var moved = TimeSpan.Zero;
        while (!await done())
        {
            if (moved >= limit)
            {
                throw new TimeoutException($"The condition did not hold within {limit} of clock time.");
            }

            Advance(step);
            moved += step;
            await Task.Delay(StepPause);
        }

        return moved;
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
