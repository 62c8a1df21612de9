using Conduit.Grains.Pools;
using Polly;
using Polly.CircuitBreaker;

namespace Conduit.Grains.Health;

/// <summary>
/// A Polly.Core circuit breaker fed with outcomes that happened elsewhere (a connect attempt, a
/// request's fate), used per connection and per pool. It opens when the failure ratio within the
/// sampling window passes the threshold, rejects for the break duration, then half-opens: the next
/// recorded outcome decides whether it closes or opens again.
/// </summary>
internal sealed class CircuitBreaker
{
    private readonly ResiliencePipeline<bool> _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly TimeProvider _time;
    private DateTimeOffset _blockedUntil;

    public CircuitBreaker(PoolOptions options, TimeProvider time)
    {
        _time = time;
        var strategy = new CircuitBreakerStrategyOptions<bool>
        {
            FailureRatio = options.BreakerFailureRatio,
            MinimumThroughput = options.BreakerMinimumThroughput,
            SamplingDuration = options.BreakerSamplingDuration,
            BreakDuration = options.BreakDuration,
            StateProvider = _state,
            ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is not null || !args.Outcome.Result),
            OnOpened = args =>
            {
                _blockedUntil = _time.GetUtcNow() + args.BreakDuration;
                Opened++;
                return ValueTask.CompletedTask;
            },
        };
        _pipeline = new ResiliencePipelineBuilder<bool> { TimeProvider = time }.AddCircuitBreaker(strategy).Build();
    }

    /// <summary>Polly's view of the circuit (Open stays until the next outcome after the break).</summary>
    public CircuitState State => _state.CircuitState;

    /// <summary>"Closed", "Open" (rejecting), "HalfOpen" (break elapsed, waiting for a probe outcome) or "Isolated".</summary>
    public string DisplayState => State switch
    {
        CircuitState.Open when !IsRejecting => "HalfOpen",
        var state => state.ToString(),
    };

    /// <summary>How many times it opened.</summary>
    public int Opened { get; private set; }

    /// <summary>Whether calls are being rejected now (open and the break has not elapsed).</summary>
    public bool IsRejecting => State is CircuitState.Open or CircuitState.Isolated && _time.GetUtcNow() < _blockedUntil;

    /// <summary>Time left until the breaker half-opens (zero when not rejecting).</summary>
    public TimeSpan RetryAfter => IsRejecting ? _blockedUntil - _time.GetUtcNow() : TimeSpan.Zero;

    /// <summary>Records one outcome; returns false when the breaker rejected it (it was open).</summary>
    public async ValueTask<bool> RecordAsync(bool success)
    {
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            var outcome = await _pipeline.ExecuteOutcomeAsync(static (_, ok) => ValueTask.FromResult(Outcome.FromResult(ok)), context, success);
            return outcome.Exception is not BrokenCircuitException;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
