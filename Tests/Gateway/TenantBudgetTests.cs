using System.Collections.Concurrent;
using Conduit.Gateway.Quotas;
using Conduit.Grains;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Gateway;

/// <summary>
/// A tenant's local budget against a quota grain whose answers the test releases (a slow grain, by fault injection):
/// bursts on an empty bucket, request sizes that follow the tenant's rate, and refusals.
/// </summary>
public sealed class TenantBudgetTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Burst_OnAnEmptyBucket_IsServedByTheNextGrants_NotTurnedAway()
    {
        var grain = new SlowGrain();
        var budget = new TenantBudget("t", minRequest: 50, grain.Refill, _clock);
        var takes = Enumerable.Range(0, 1_000).Select(_ => budget.TakeAsync().AsTask()).ToList();

        // The first caller's refill asks for the minimum; the 999 that queued behind it are counted into the next one.
        Assert.Equal(50, await grain.AnswerNextAsync(grant: wanted => wanted));
        Assert.True(await grain.AnswerNextAsync(grant: wanted => wanted) >= 950);

        var results = await Task.WhenAll(takes).WaitAsync(Wait);
        Assert.All(results, r => Assert.Equal(0, r));
        Assert.Equal(2, grain.Requests.Count);
    }

    [Fact]
    public async Task RequestSize_FollowsTheTenantsRate_AndFallsBackWhenItGoesQuiet()
    {
        var grain = new SlowGrain { AnswerAtOnce = wanted => wanted };
        var budget = new TenantBudget("t", minRequest: 50, grain.Refill, _clock);

        // 2,000 messages per second for 3 s: a grant is sized to about 250 ms of them.
        for (var i = 0; i < 6_000; i++)
        {
            Assert.Equal(0, await budget.TakeAsync());
            _clock.Advance(TimeSpan.FromMilliseconds(0.5));
        }

        Assert.InRange(grain.Requests.Last(), 400, 600);
        Assert.InRange(grain.Requests.Count, 10, 40); // 6,000 messages of 50 would have taken 120 grain calls

        // A quiet minute later, the next request is small again.
        _clock.Advance(TimeSpan.FromMinutes(1));
        var before = grain.Requests.Count;
        while (grain.Requests.Count == before)
        {
            Assert.Equal(0, await budget.TakeAsync());
        }

        Assert.Equal(50, grain.Requests.Last());
    }

    [Fact]
    public async Task RequestSize_IsCappedAtAHundredTimesTheMinimum()
    {
        var grain = new SlowGrain { AnswerAtOnce = wanted => wanted };
        var budget = new TenantBudget("t", minRequest: 10, grain.Refill, _clock);
        for (var i = 0; i < 20_000; i++)
        {
            Assert.Equal(0, await budget.TakeAsync()); // no time passes: an unbounded rate
        }

        Assert.Equal(1_000, grain.Requests.Max());
    }

    [Fact]
    public async Task UsedUpBudget_RefusesWaitersWithTheGrainsRetryAfter_WithoutAskingAgain()
    {
        var grain = new SlowGrain();
        var budget = new TenantBudget("t", minRequest: 50, grain.Refill, _clock);
        var takes = Enumerable.Range(0, 100).Select(_ => budget.TakeAsync().AsTask()).ToList();
        await grain.AnswerNextAsync(grant: _ => 30);
        await grain.AnswerNextAsync(grant: _ => 0, retryAfterMs: 700);

        var results = await Task.WhenAll(takes).WaitAsync(Wait);
        Assert.Equal(30, results.Count(r => r == 0));
        Assert.Equal(70, results.Count(r => r == 700));

        // Refused locally until the retry-after has passed, then asked again.
        Assert.Equal(700, await budget.TakeAsync());
        Assert.Equal(2, grain.Requests.Count);
        Assert.Equal(71, budget.TakeUnreportedRejections()); // reported with the next request
        _clock.Advance(TimeSpan.FromMilliseconds(701));
        var next = budget.TakeAsync().AsTask();
        await grain.AnswerNextAsync(grant: wanted => wanted);
        Assert.Equal(0, await next.WaitAsync(Wait));
    }

    /// <summary>
    /// Stands where the quota grain's <c>RequestBudget</c> is called: records what is asked and answers when the test says
    /// (or at once with <see cref="AnswerAtOnce"/>).
    /// </summary>
    private sealed class SlowGrain
    {
        private readonly ConcurrentQueue<(TenantBudget Budget, int Wanted, TaskCompletionSource Done)> _pending = new();

        public List<int> Requests { get; } = [];

        public Func<int, int>? AnswerAtOnce { get; init; }

        public Task Refill(TenantBudget budget, int wanted)
        {
            lock (Requests)
            {
                Requests.Add(wanted);
            }

            if (AnswerAtOnce is { } grant)
            {
                budget.Apply(new MessageBudgetGrant(grant(wanted), 0, 60_000));
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending.Enqueue((budget, wanted, done));
            return done.Task;
        }

        /// <summary>Waits for the next request, answers it, and returns how many tokens it asked for.</summary>
        public async Task<int> AnswerNextAsync(Func<int, int> grant, long retryAfterMs = 0)
        {
            (TenantBudget Budget, int Wanted, TaskCompletionSource Done) next = default;
            await Eventually.TrueAsync(() => _pending.TryDequeue(out next), because: "no budget request arrived");
            var (budget, wanted, done) = next;
            ArgumentNullException.ThrowIfNull(budget);
            ArgumentNullException.ThrowIfNull(done);
            var granted = grant(wanted);
            budget.Apply(new MessageBudgetGrant(granted, granted > 0 ? 0 : retryAfterMs, 60_000));
            done.SetResult();
            return wanted;
        }
    }
}
