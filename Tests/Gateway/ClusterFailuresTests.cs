using System.Net.Sockets;
using Conduit.Gateway.Availability;
using Conduit.Runtime;
using Conduit.Runtime.Cluster;

namespace Conduit.Tests.Gateway;

public sealed class ClusterFailuresTests
{
    public static TheoryData<Exception> Unavailable() => new()
    {
        new SiloUnavailableException("silo gone"),
        new RedisUnavailableException("redis down"),
        new TimeoutException("no response"),
        new SocketException((int)SocketError.ConnectionRefused),
        new GrainCallException(typeof(SiloUnavailableException).FullName!, "from a silo that forwarded it", null),
        new InvalidOperationException("wrapper", new SiloUnavailableException("inner")),
        new AggregateException(new InvalidOperationException("bug"), new RedisUnavailableException("redis down")),
    };

    public static TheoryData<Exception> Bugs() => new()
    {
        new InvalidOperationException("bug"),
        new ArgumentException("bad argument"),
        new GrainCallException(typeof(NullReferenceException).FullName!, "remote bug", null),
        new AggregateException(new InvalidOperationException("bug")),
    };

    [Theory]
    [MemberData(nameof(Unavailable))]
    public void IsUnavailable_ClusterAvailabilityFailure_True(Exception exception) => Assert.True(ClusterFailures.IsUnavailable(exception));

    [Theory]
    [MemberData(nameof(Bugs))]
    public void IsUnavailable_GenuineError_False(Exception exception) => Assert.False(ClusterFailures.IsUnavailable(exception));
}
