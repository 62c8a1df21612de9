using Conduit.Grains;
using Conduit.Grains.LoadBalancing;
using Conduit.Grains.Pools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conduit.Tests.Pools;

public sealed class PoolOptionsTests
{
    [Fact]
    public void Defaults_MatchDesignSection5()
    {
        var o = new PoolOptions();
        Assert.Null(o.Url);
        Assert.Equal(PoolMode.Request, o.Mode);
        Assert.Equal(2, o.MinConnections);
        Assert.Equal(10, o.MaxConnections);
        Assert.Equal(64, o.MaxInFlightPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(5), o.AcquireTimeout);
        Assert.Equal(1000, o.MaxWaiters);
        Assert.Equal(TimeSpan.FromMinutes(30), o.ConnectionTtl);
        Assert.Equal(0.1, o.TtlJitter);
        Assert.Equal(TimeSpan.FromMinutes(5), o.IdleTimeout);
        Assert.Equal(1000, o.MaxRequestsPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(30), o.LeaseTimeout);
        Assert.Equal(TimeSpan.FromMinutes(10), o.LongLeaseWarning);
        Assert.Equal(TimeSpan.FromMilliseconds(50), o.LeaseIdleRelease);
        Assert.Equal(LoadBalancingMode.LeastConnections, o.LoadBalancing);
        Assert.Equal(TimeSpan.FromSeconds(30), o.HealthCheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), o.HealthCheckTimeout);
        Assert.Null(o.HealthCheckMethod);
        Assert.Equal(TimeSpan.FromSeconds(1), o.HealthyLatency);
        Assert.Equal(TimeSpan.FromSeconds(3), o.DegradedLatency);
        Assert.Equal(3, o.FailureThreshold);
        Assert.Equal(2, o.SuccessThreshold);
        Assert.Equal(0.5, o.BreakerFailureRatio);
        Assert.Equal(5, o.BreakerMinimumThroughput);
        Assert.Equal(TimeSpan.FromSeconds(30), o.BreakerSamplingDuration);
        Assert.Equal(TimeSpan.FromSeconds(60), o.BreakDuration);
        Assert.Equal(TimeSpan.FromMilliseconds(100), o.ReconnectBaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), o.ReconnectMaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), o.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(25), o.RequestTimeout);
        Assert.True(o.PreWarming);
        Assert.Equal(0.3, o.DemandSmoothing);
        Assert.Equal(0.25, o.PreWarmHeadroom);
        Assert.Equal(TimeSpan.FromSeconds(1), o.MaintenanceInterval);
    }

    [Fact]
    public void Validate_DefaultsWithUrl_Succeeds()
    {
        var result = new PoolOptionsValidator().Validate("p", new PoolOptions { Url = "ws://127.0.0.1:1/" });
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_ManyBadValues_ReportsEveryOneByName()
    {
        var options = new PoolOptions
        {
            Url = "http://example",
            MinConnections = 11,
            MaxInFlightPerConnection = 0,
            AcquireTimeout = TimeSpan.Zero,
            MaxWaiters = -1,
            TtlJitter = 1.5,
            DegradedLatency = TimeSpan.FromMilliseconds(10),
            BreakerFailureRatio = 0,
            BreakerMinimumThroughput = 1,
            BreakDuration = TimeSpan.FromMilliseconds(10),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(1),
            MaxMessageBytes = 100,
            SubProtocol = "json rpc",
        };

        var result = new PoolOptionsValidator().Validate("main", options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        foreach (var name in new[] { "Url 'http://example'", "MinConnections 11", "MaxInFlightPerConnection 0", "AcquireTimeout", "MaxWaiters -1", "TtlJitter 1.5", "DegradedLatency", "BreakerFailureRatio 0", "BreakerMinimumThroughput 1", "BreakDuration", "ReconnectMaxDelay", "MaxMessageBytes 100", "SubProtocol 'json rpc'" })
        {
            Assert.Contains(failures, f => f.StartsWith("Pools:main:", StringComparison.Ordinal) && f.Contains(name, StringComparison.Ordinal));
        }

        Assert.Equal(13, failures.Count);
    }

    [Fact]
    public void AddConduitPools_BindsNamedPoolsAndCatalog()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pools:alpha:Url"] = "ws://127.0.0.1:5000/",
            ["Pools:alpha:Mode"] = "session",
            ["Pools:alpha:MaxConnections"] = "4",
            ["Pools:alpha:AcquireTimeout"] = "00:00:01.5",
            ["Pools:alpha:LoadBalancing"] = "PowerOfTwoChoices",
            ["Pools:beta:Url"] = "wss://upstream.example/rpc",
        }).Build();
        using var provider = new ServiceCollection().AddConduitPools(configuration).BuildServiceProvider();

        var monitor = provider.GetRequiredService<IOptionsMonitor<PoolOptions>>();
        var alpha = monitor.Get("alpha");
        Assert.Equal(PoolMode.Session, alpha.Mode);
        Assert.Equal(4, alpha.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(1.5), alpha.AcquireTimeout);
        Assert.Equal(LoadBalancingMode.PowerOfTwoChoices, alpha.LoadBalancing);
        Assert.Equal(10, monitor.Get("beta").MaxConnections);
        var catalog = provider.GetRequiredService<PoolCatalog>();
        Assert.True(catalog.IsConfigured("alpha"));
        Assert.False(catalog.IsConfigured("gamma"));
    }

    [Fact]
    public void AddConduitPools_BadValue_FailsWithNamedError()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pools:bad:Url"] = "ws://127.0.0.1:5000/",
            ["Pools:bad:MaxConnections"] = "0",
        }).Build();
        using var provider = new ServiceCollection().AddConduitPools(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<PoolOptions>>().Get("bad"));
        Assert.Contains(error.Failures, f => f.Contains("Pools:bad:MaxConnections 0", StringComparison.Ordinal));
    }
}
