using Conduit.Runtime.Hosting;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Runtime;

public sealed class RepeatedLogsTests
{
    [Fact]
    public void Admit_OnePerIntervalAndKind_TheNextOneIsPrecededByTheCountOfThoseLeftOut()
    {
        var time = new FakeTimeProvider();
        var log = new CapturedLog();
        using var factory = LoggerFactory.Create(b => b.AddProvider(log));
        var repeated = new RepeatedLogs(time, factory.CreateLogger<RepeatedLogs>());

        Assert.True(repeated.Admit("refused"));
        Assert.True(repeated.Admit("other kind")); // kinds are thinned out apart
        Assert.False(repeated.Admit("refused"));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(repeated.Admit("refused"));
        Assert.False(repeated.Admit("refused"));
        Assert.Empty(log.Entries);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(repeated.Admit("refused"));
        Assert.Equal((LogLevel.Warning, "3 more log entries of the kind 'refused' were left out in the last 10 s (one per 10 s is written)"), Assert.Single(log.Entries));
        Assert.False(repeated.Admit("refused"));
    }
}
