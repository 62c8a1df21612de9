namespace Conduit.Grains.Health;

/// <summary>
/// Turns health-check samples into a connection's health: a sample is healthy up to
/// <c>healthyLatency</c>, degraded up to <c>degradedLatency</c>, unhealthy above it or when the check
/// failed. <c>failureThreshold</c> unhealthy samples in a row make the connection unhealthy;
/// <c>successThreshold</c> good samples in a row make an unhealthy connection usable again. A
/// degraded sample changes a usable connection at once (it still serves, with less weight).
/// Not thread-safe: owned by one grain.
/// </summary>
internal sealed class HealthTracker(TimeSpan healthyLatency, TimeSpan degradedLatency, int failureThreshold, int successThreshold)
{
    private int _consecutiveFailures;
    private int _consecutiveSuccesses;

    /// <summary>The current health (starts healthy: a connection that just opened answered its handshake).</summary>
    public ConnectionHealth Health { get; private set; } = ConnectionHealth.Healthy;

    /// <summary>Unhealthy samples in a row.</summary>
    public int ConsecutiveFailures => _consecutiveFailures;

    /// <summary>The class of one sample; a failed check (null latency) is unhealthy.</summary>
    public ConnectionHealth Classify(TimeSpan? latency)
    {
        if (latency is not { } value || value > degradedLatency)
        {
            return ConnectionHealth.Unhealthy;
        }

        return value <= healthyLatency ? ConnectionHealth.Healthy : ConnectionHealth.Degraded;
    }

    /// <summary>Records a sample; returns true when <see cref="Health"/> changed.</summary>
    public bool Record(TimeSpan? latency)
    {
        var before = Health;
        var sample = Classify(latency);
        if (sample == ConnectionHealth.Unhealthy)
        {
            _consecutiveSuccesses = 0;
            _consecutiveFailures++;
            if (_consecutiveFailures >= failureThreshold)
            {
                Health = ConnectionHealth.Unhealthy;
            }
        }
        else
        {
            _consecutiveFailures = 0;
            _consecutiveSuccesses++;
            if (Health != ConnectionHealth.Unhealthy || _consecutiveSuccesses >= successThreshold)
            {
                Health = sample;
            }
        }

        return Health != before;
    }

    /// <summary>Forgets the history (a new socket).</summary>
    public void Reset()
    {
        Health = ConnectionHealth.Healthy;
        _consecutiveFailures = 0;
        _consecutiveSuccesses = 0;
    }
}
