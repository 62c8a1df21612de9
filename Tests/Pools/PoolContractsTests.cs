using System.Text.Json;
using Conduit.Grains;

namespace Conduit.Tests.Pools;

/// <summary>The pool DTOs must survive the wire (System.Text.Json) once grains sit on different silos.</summary>
public sealed class PoolContractsTests
{
    private static T RoundTrip<T>(T value)
        => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, Conduit.Runtime.RuntimeJson.Options), Conduit.Runtime.RuntimeJson.Options)!;

    [Fact]
    public void Dtos_RoundTripThroughRuntimeJson()
    {
        var info = new PoolInfo("main", true, "request", "healthy", 3, 2, 10, 128, 1, "HalfOpen", 30_000, 50, 77, "mcp");
        var lease = new LeaseResult("main#1", "main/1", 0, null, 12, 0);
        var refused = new LeaseResult(null, null, JsonRpcErrorCodes.CircuitOpen, "Circuit open", 0, 5_000);
        var report = new ConnectionReport("main/1", ConnectionState.Recycling, ConnectionHealth.Degraded, LatencyTrend.Degrading, 1234.5, 3, 999, false, true, SessionAttached: true);
        var reply = new ConnectionReply("""{"jsonrpc":"2.0","id":"x","result":[1]}""", Sent: true, ConnectionFailed: false, Answered: true, Sequence: 7);
        var retired = new ConnectionReply("""{"jsonrpc":"2.0","id":"x","error":{"code":-32004}}""", Sent: false, ConnectionFailed: true, Answered: false, Retired: true);
        var answer = new AgentAnswer("""{"jsonrpc":"2.0","id":"x","result":[1]}""", 7);
        IReadOnlyList<string> lost = ["main#2"];

        Assert.Equal(info, RoundTrip(info));
        Assert.Equal(lease, RoundTrip(lease));
        Assert.True(RoundTrip(lease).Granted);
        Assert.Equal(refused, RoundTrip(refused));
        Assert.False(RoundTrip(refused).Granted);
        Assert.Equal(report, RoundTrip(report));
        Assert.Equal(reply, RoundTrip(reply));
        Assert.True(RoundTrip(retired).Retired);
        Assert.Equal(answer, RoundTrip(answer));
        Assert.Equal(new AgentAnswer(null, 0), RoundTrip(new AgentAnswer(null, 0)));
        Assert.Equal(new LeaseRequest("t/a"), RoundTrip(new LeaseRequest("t/a")));
        Assert.Equal(lost, RoundTrip(lost));
    }
}
