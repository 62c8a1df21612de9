using Conduit.Grains;

namespace Conduit.Gateway.Quotas;

/// <summary>
/// The gateway's local token bucket of one tenant: tokens are messages granted by the quota grain in slices.
/// Taking a token is a local operation; the bucket asks the grain for the next slice when it runs low, and while
/// the grain says the tenant's budget is used up, messages are refused locally without asking again.
/// </summary>
internal sealed class TenantBudget(string tenant)
{
    private readonly object _lock = new();
    private int _tokens;
    private long _validUntil;
    private long _refusedUntil;
    private long _unreportedRejections;
    private Task? _refill;

    public string Tenant { get; } = tenant;

    /// <summary>Tries to take one message; returns 0 when allowed, else the retry-after in ms; or a task when a grant must be awaited.</summary>
    /// <param name="now">Timestamp now.</param>
    /// <param name="lowWater">Ask for the next slice when fewer tokens than this are left.</param>
    /// <param name="startRefill">Starts a refill and returns its task (called outside the lock).</param>
    /// <param name="time">The clock the timestamps come from.</param>
    /// <param name="wait">Set when the caller must await this task and try again.</param>
    public long TryTake(long now, int lowWater, Func<TenantBudget, Task> startRefill, TimeProvider time, out Task? wait)
    {
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
                refillNeeded = _tokens < lowWater && _refill is null;
                result = 0;
            }
            else if (now < _refusedUntil)
            {
                _unreportedRejections++;
                result = Math.Max(1, (long)Math.Ceiling(time.GetElapsedTime(now, _refusedUntil).TotalMilliseconds));
            }
            else
            {
                refillNeeded = _refill is null;
                wait = _refill;
                result = -1;
            }
        }

        if (refillNeeded)
        {
            var task = StartRefillOnce(startRefill);
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

    /// <summary>Applies a grant of the quota grain.</summary>
    public void Apply(MessageBudgetGrant grant, long now, TimeProvider time)
    {
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
    public void RefillDone()
    {
        lock (_lock)
        {
            _refill = null;
        }
    }

    private Task StartRefillOnce(Func<TenantBudget, Task> startRefill)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_refill is not null)
            {
                return _refill;
            }

            _refill = gate.Task;
        }

        _ = RunAsync();
        return gate.Task;

        async Task RunAsync()
        {
            try
            {
                await startRefill(this);
            }
            finally
            {
                RefillDone();
                gate.TrySetResult();
            }
        }
    }
}
