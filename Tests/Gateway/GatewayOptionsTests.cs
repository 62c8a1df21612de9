using Conduit.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Gateway;

public sealed class GatewayOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var o = new GatewayOptions();

        Assert.Equal(TimeSpan.FromSeconds(15), o.KeepAliveInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), o.KeepAliveTimeout);
        Assert.Equal(1024 * 1024, o.MaxMessageBytes);
        Assert.Equal(1024, o.SendQueueCapacity);
        Assert.Equal(16L * 1024 * 1024, o.SendQueueMaxBytes);
        Assert.Equal(256, o.MaxInFlightPerSocket);
        Assert.Equal(TimeSpan.FromHours(24), o.MaxSocketLifetime);
        Assert.Equal(TimeSpan.FromSeconds(10), o.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), o.CloseTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), o.PermitRenewInterval);
        Assert.Equal(50, o.BudgetRequestSize);
        Assert.Equal(TimeSpan.FromSeconds(10), o.PoolLookupCacheTime);
        Assert.Equal(TimeSpan.FromSeconds(5), o.UnavailableRetryAfter);
        Assert.True(new GatewayOptionsValidator().Validate(null, o).Succeeded);
    }

    [Fact]
    public void Validate_EveryBadValue_IsReportedByName()
    {
        var o = new GatewayOptions
        {
            KeepAliveInterval = TimeSpan.Zero,
            KeepAliveTimeout = TimeSpan.FromSeconds(-1),
            MaxMessageBytes = 10,
            SendQueueCapacity = 0,
            SendQueueMaxBytes = 5,
            MaxInFlightPerSocket = 0,
            MaxSocketLifetime = TimeSpan.Zero,
            DrainTimeout = TimeSpan.Zero,
            CloseTimeout = TimeSpan.Zero,
            PermitRenewInterval = TimeSpan.Zero,
            BudgetRequestSize = 0,
            PoolLookupCacheTime = TimeSpan.Zero,
            UnavailableRetryAfter = TimeSpan.FromMilliseconds(500),
        };

        var failures = new GatewayOptionsValidator().Validate(null, o).Failures!.ToList();

        foreach (var name in new[] { "KeepAliveInterval", "KeepAliveTimeout", "MaxMessageBytes", "SendQueueCapacity", "SendQueueMaxBytes", "MaxInFlightPerSocket", "MaxSocketLifetime", "DrainTimeout", "CloseTimeout", "PermitRenewInterval", "BudgetRequestSize", "PoolLookupCacheTime", "UnavailableRetryAfter" })
        {
            Assert.Contains(failures, f => f.StartsWith($"Gateway:{name} ", StringComparison.Ordinal));
        }

        Assert.Contains(failures, f => f.Contains("(was 10)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, false, false)]
    [InlineData("Information", true, true)]
    [InlineData("Warning", false, true)]
    public void HostingRequestLog_OffByDefault_ConfigurationTurnsItOn(string? configured, bool information, bool warning)
    {
        // The host keeps an Activity and a scope per request (per open WebSocket) while this category is enabled.
        var settings = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" };
        if (configured is not null)
        {
            settings["Logging:LogLevel:" + GatewayServiceCollectionExtensions.HostingDiagnosticsCategory] = configured;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddConfiguration(configuration.GetSection("Logging")).AddProvider(new EnabledProvider()));
        services.AddConduitGateway(configuration);
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<ILoggerFactory>();

        var hosting = factory.CreateLogger(GatewayServiceCollectionExtensions.HostingDiagnosticsCategory);
        Assert.Equal(information, hosting.IsEnabled(LogLevel.Information));
        Assert.Equal(warning, hosting.IsEnabled(LogLevel.Warning));
        Assert.Equal(configured is not null, hosting.IsEnabled(LogLevel.Critical));
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Information));
    }

    private sealed class EnabledProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new EnabledLogger();

        public void Dispose()
        {
        }

        private sealed class EnabledLogger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
