using System.Net;
using Conduit.Runtime;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Membership;
using Conduit.Runtime.Transport;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Tests.Cluster;

public sealed class ClusterTransportTests
{
    [Fact]
    public async Task GetSiloConnectionAsync_AfterAFailedConnect_FailsAtOnceForTheRetryDelayThenConnects()
    {
        // Until a crashed silo is declared dead every call for its grains asks for a connection to it: one attempt per
        // retry delay, not one per call (against a host gone from the network each attempt waits the connect timeout).
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var port = ServerAddress.FreeLoopbackPort();
        var silo = new SiloAddress("127.0.0.1", port, 7);
        await using var caller = NewTransport(clock, "silo:caller");
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => caller.GetSiloConnectionAsync(silo));

        // The silo is there now, but within the delay nobody tries.
        await using var target = NewTransport(TimeProvider.System, "silo:" + silo);
        target.LocalSilo = silo;
        target.Listen(new IPEndPoint(IPAddress.Loopback, port));
        var early = await Assert.ThrowsAsync<IOException>(() => caller.GetSiloConnectionAsync(silo));
        Assert.StartsWith(refused.Message, early.Message);
        Assert.Contains("the next attempt is 1 s after the last", early.Message);

        clock.Advance(ClusterTransport.ConnectionRetryDelay);
        var connection = await caller.GetSiloConnectionAsync(silo).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(connection.IsClosed);
    }

    private static ClusterTransport NewTransport(TimeProvider time, string name)
        => new(new MessageCodec(RuntimeJson.Options), name, 1 << 20, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), time, NullLogger.Instance, new RepeatedLogs(time, NullLogger<RepeatedLogs>.Instance));
}
