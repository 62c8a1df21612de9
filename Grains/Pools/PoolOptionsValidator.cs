using Conduit.Grains.Connections;
using Microsoft.Extensions.Options;

namespace Conduit.Grains.Pools;

/// <summary>Checks a pool's settings and reports every bad value by name, not only the first.</summary>
internal sealed class PoolOptionsValidator : IValidateOptions<PoolOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PoolOptions options)
    {
        var errors = new List<string>();
        var prefix = $"{PoolOptions.SectionName}:{name}:";

        if (string.IsNullOrWhiteSpace(options.Url))
        {
            errors.Add($"{prefix}Url is required (a ws:// or wss:// URL).");
        }
        else if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || (url.Scheme != "ws" && url.Scheme != "wss"))
        {
            errors.Add($"{prefix}Url '{options.Url}' is not an absolute ws:// or wss:// URL.");
        }

        if (options.SubProtocol is { } subProtocol && !IsToken(subProtocol))
        {
            errors.Add($"{prefix}SubProtocol '{subProtocol}' is not a WebSocket subprotocol name (1-64 visible ASCII characters, none of them a separator such as space, comma, quote or bracket).");
        }

        if (!Enum.IsDefined(options.Mode))
        {
            errors.Add($"{prefix}Mode '{options.Mode}' is not request or session.");
        }

        if (!Enum.IsDefined(options.LoadBalancing))
        {
            errors.Add($"{prefix}LoadBalancing '{options.LoadBalancing}' is unknown.");
        }

        Positive(errors, prefix, nameof(options.MaxConnections), options.MaxConnections);
        if (options.MinConnections < 0 || options.MinConnections > options.MaxConnections)
        {
            errors.Add($"{prefix}MinConnections {options.MinConnections} must be between 0 and MaxConnections ({options.MaxConnections}).");
        }

        Positive(errors, prefix, nameof(options.MaxInFlightPerConnection), options.MaxInFlightPerConnection);
        if (options.MaxWaiters < 0)
        {
            errors.Add($"{prefix}MaxWaiters {options.MaxWaiters} must not be negative.");
        }

        Positive(errors, prefix, nameof(options.MaxRequestsPerConnection), options.MaxRequestsPerConnection);
        if (options.MaxMessageBytes < UpstreamLimits.MinMaxMessageBytes)
        {
            errors.Add($"{prefix}MaxMessageBytes {options.MaxMessageBytes} must be at least {UpstreamLimits.MinMaxMessageBytes} (bytes).");
        }

        Positive(errors, prefix, nameof(options.FailureThreshold), options.FailureThreshold);
        Positive(errors, prefix, nameof(options.SuccessThreshold), options.SuccessThreshold);

        Positive(errors, prefix, nameof(options.AcquireTimeout), options.AcquireTimeout);
        Positive(errors, prefix, nameof(options.ConnectionTtl), options.ConnectionTtl);
        Positive(errors, prefix, nameof(options.IdleTimeout), options.IdleTimeout);
        Positive(errors, prefix, nameof(options.LeaseTimeout), options.LeaseTimeout);
        Positive(errors, prefix, nameof(options.LongLeaseWarning), options.LongLeaseWarning);
        Positive(errors, prefix, nameof(options.LeaseIdleRelease), options.LeaseIdleRelease);
        Positive(errors, prefix, nameof(options.HealthCheckInterval), options.HealthCheckInterval);
        Positive(errors, prefix, nameof(options.HealthCheckTimeout), options.HealthCheckTimeout);
        Positive(errors, prefix, nameof(options.HealthyLatency), options.HealthyLatency);
        Positive(errors, prefix, nameof(options.ConnectTimeout), options.ConnectTimeout);
        Positive(errors, prefix, nameof(options.RequestTimeout), options.RequestTimeout);
        Positive(errors, prefix, nameof(options.ReconnectBaseDelay), options.ReconnectBaseDelay);
        Positive(errors, prefix, nameof(options.MaintenanceInterval), options.MaintenanceInterval);
        if (options.DegradedLatency < options.HealthyLatency)
        {
            errors.Add($"{prefix}DegradedLatency {options.DegradedLatency} must not be below HealthyLatency ({options.HealthyLatency}).");
        }

        if (options.ReconnectMaxDelay < options.ReconnectBaseDelay)
        {
            errors.Add($"{prefix}ReconnectMaxDelay {options.ReconnectMaxDelay} must not be below ReconnectBaseDelay ({options.ReconnectBaseDelay}).");
        }

        if (options.LeaseIdleRelease >= options.LeaseTimeout && options.LeaseTimeout > TimeSpan.Zero)
        {
            errors.Add($"{prefix}LeaseIdleRelease {options.LeaseIdleRelease} must be below LeaseTimeout ({options.LeaseTimeout}).");
        }

        if (options.TtlJitter is < 0 or >= 1 || double.IsNaN(options.TtlJitter))
        {
            errors.Add($"{prefix}TtlJitter {options.TtlJitter} must be in [0, 1).");
        }

        // Polly.Core's own ranges for the circuit breaker.
        if (options.BreakerFailureRatio is <= 0 or > 1 || double.IsNaN(options.BreakerFailureRatio))
        {
            errors.Add($"{prefix}BreakerFailureRatio {options.BreakerFailureRatio} must be in (0, 1].");
        }

        if (options.BreakerMinimumThroughput < 2)
        {
            errors.Add($"{prefix}BreakerMinimumThroughput {options.BreakerMinimumThroughput} must be at least 2.");
        }

        if (options.BreakerSamplingDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"{prefix}BreakerSamplingDuration {options.BreakerSamplingDuration} must be at least 00:00:00.5.");
        }

        if (options.BreakDuration < TimeSpan.FromMilliseconds(500))
        {
            errors.Add($"{prefix}BreakDuration {options.BreakDuration} must be at least 00:00:00.5.");
        }

        if (options.DemandSmoothing is <= 0 or > 1 || double.IsNaN(options.DemandSmoothing))
        {
            errors.Add($"{prefix}DemandSmoothing {options.DemandSmoothing} must be in (0, 1].");
        }

        if (options.PreWarmHeadroom < 0 || double.IsNaN(options.PreWarmHeadroom))
        {
            errors.Add($"{prefix}PreWarmHeadroom {options.PreWarmHeadroom} must not be negative.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string prefix, string name, int value)
    {
        if (value <= 0)
        {
            errors.Add($"{prefix}{name} {value} must be positive.");
        }
    }

    private static void Positive(List<string> errors, string prefix, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{prefix}{name} {value} must be positive.");
        }
    }

    /// <summary>An HTTP token (RFC 9110), which is what a subprotocol name must be (RFC 6455), at most 64 characters.</summary>
    private static bool IsToken(string value)
        => value.Length is > 0 and <= 64 && value.All(c => c is > ' ' and < (char)127 && !"()<>@,;:\\\"/[]?={}".Contains(c));
}
