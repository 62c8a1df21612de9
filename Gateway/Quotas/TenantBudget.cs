using Conduit.Grains;

namespace Conduit.Gateway.Quotas;

/// <summary>
/// The gateway's local token bucket of one tenant: tokens are messages granted by the quota grain in slices.
/// Taking a token is a local operation; the bucket asks the grain for the next slice when it runs low, and while
/// the grain says the tenant's budget is used up, messages are refused locally without asking again.
/// A request asks for what the tenant used in about <see cref="GrantHorizon"/> at its recent rate, plus the callers
/// waiting, within [<c>minRequest</c>, <see cref="MaxRequestFactor"/> x <c>minRequest</c>]; the grain caps it at its
/// slice. So a busy tenant does not need a grain call every few milliseconds, and a burst of callers on an empty
/// bucket is served by the next grant instead of being turned away.
/// </summary>
/// <param name="tenant">The tenant.</param>
/// <param name="minRequest">The fewest tokens a refill asks for.</param>
/// <param name="refill">Asks the quota grain for the given number of tokens and applies its answer (<see cref="Apply"/>).</param>
/// <param name="time">The clock of grants, refusals and rates.</param>
/// <param name="onStarved">Told when a caller gave up after <see cref="MaxWaitRounds"/> grants.</param>
internal sealed class TenantBudget(string tenant, int minRequest, Func<TenantBudget, int, Task> refill, TimeProvider time, Action<TenantBudget>? onStarved = null)
{
    /// <summary>A grant is sized to last about this long at the rate tokens were taken since the previous one.</summary>
    public static readonly TimeSpan GrantHorizon = TimeSpan.FromMilliseconds(250);

    /// <summary>The largest request is this many times the smallest.</summary>
    public const int MaxRequestFactor = 100;

    /// <summary>How many grants a message waits for at most before it is refused for 1 s.</summary>
    public const int MaxWaitRounds = 20;

    private readonly object _lock = new();
    private readonly int _minRequest = minRequest;
    private int _tokens;
    private long _validUntil;
    private long _refusedUntil;
    private long _unreportedRejections;
    private Task? _refill;
    private int _requestSize = minRequest;
    private long? _lastRefillStart;
    private long _takenSinceRefill;
    private int _waitersSinceRefill;

    public string Tenant { get; } = tenant;

    /// <summary>
    /// Takes one message: 0 when it may pass, else the retry-after in milliseconds. Waits for grants while the bucket is
    /// empty: each round awaits a grant that served the callers ahead, and the rounds end when this caller gets a token
    /// or the grain says the budget is used up. A caller that gave up after <see cref="MaxWaitRounds"/> grants (a grain
    /// granting next to nothing) is refused for 1 s.
    /// </summary>
    public ValueTask<long> TakeAsync()
    {
        var result = TryTake(out var wait);
        return result >= 0 ? ValueTask.FromResult(result) : WaitAndTakeAsync(wait!);
    }

    private async ValueTask<long> WaitAndTakeAsync(Task wait)
    {
        for (var round = 0; round < MaxWaitRounds; round++)
        {
            await wait;
            var result = TryTake(out var again);
            if (result >= 0)
            {
                return result;
            }

            wait = again!;
        }

        onStarved?.Invoke(this);
        return 1000;
    }

    /// <summary>Tries to take one message; returns 0 when allowed, else the retry-after in ms; or -1 and a task when a grant must be awaited.</summary>
    /// <param name="wait">Set when the caller must await this task and try again.</param>
    private long TryTake(out Task? wait)
    {
        var now = time.GetTimestamp();
        wait = null;
        var refillNeeded = false;
        long result;
        lock (_lock)
        {
            if (_tokens > 0 && now >= _validUntil)
            {
                _tokens = 0; // the grant lapsed
            }

            if (_tokens > 0)
            {
                _tokens--;
                _takenSinceRefill++;
                // Not while the grain's last answer was a refusal: it said when to ask again.
                refillNeeded = _tokens < Math.Max(1, _requestSize / 4) && _refill is null && now >= _refusedUntil;
                result = 0;
            }
            else if (now < _refusedUntil)
            {
                _unreportedRejections++;
                result = Math.Max(1, (long)Math.Ceiling(time.GetElapsedTime(now, _refusedUntil).TotalMilliseconds));
            }
            else
            {
                _waitersSinceRefill++;
                refillNeeded = _refill is null;
                wait = _refill;
                result = -1;
            }
        }

        if (refillNeeded)
        {
            var task = StartRefillOnce(now);
            if (result < 0)
            {
                wait = task;
            }
        }

        return result;
    }

    /// <summary>Counts a refusal to report with the next request or renewal.</summary>
    public long TakeUnreportedRejections()
    {
        lock (_lock)
        {
            var n = _unreportedRejections;
            _unreportedRejections = 0;
            return n;
        }
    }

    /// <summary>Applies an answer of the quota grain.</summary>
    public void Apply(MessageBudgetGrant grant)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (grant.Granted > 0)
            {
                _tokens = (now < _validUntil ? _tokens : 0) + grant.Granted;
                _validUntil = now + (long)(grant.ValidForMs / 1000.0 * time.TimestampFrequency);
                _refusedUntil = 0;
            }
            else
            {
                _refusedUntil = now + (long)(grant.RetryAfterMs / 1000.0 * time.TimestampFrequency);
            }
        }
    }

    /// <summary>Called when a refill finished (whatever its outcome).</summary>
    private void RefillDone()
    {
        lock (_lock)
        {
            _refill = null;
        }
    }

    /// <summary>Starts a refill unless one runs (called outside the lock); returns the task that ends with it.</summary>
    private Task StartRefillOnce(long now)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int size;
        lock (_lock)
        {
            if (_refill is not null)
            {
                return _refill;
            }

            _refill = gate.Task;
            size = _requestSize = NextRequestSize(now);
            _lastRefillStart = now;
            _takenSinceRefill = 0;
            _waitersSinceRefill = 0;
        }

        _ = RunAsync();
        return gate.Task;

        async Task RunAsync()
        {
            try
            {
                await refill(this, size);
            }
            finally
            {
                RefillDone();
                gate.TrySetResult();
            }
        }
    }

    private int NextRequestSize(long now)
    {
        var sinceLast = _lastRefillStart is { } last ? time.GetElapsedTime(last, now) : TimeSpan.MaxValue;
        var perHorizon = _takenSinceRefill * (GrantHorizon / TimeSpan.FromTicks(Math.Max(sinceLast.Ticks, TimeSpan.TicksPerMillisecond)));
        var wanted = perHorizon + _waitersSinceRefill;
        return (int)Math.Clamp(wanted, _minRequest, (double)_minRequest * MaxRequestFactor);
    }
}
