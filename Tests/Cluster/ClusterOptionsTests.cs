using Conduit.Runtime.Cluster;

namespace Conduit.Tests.Cluster;

public sealed class ClusterOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var o = new ClusterOptions();

        Assert.Equal(("default", "127.0.0.1:6379", null, "127.0.0.1", 11111), (o.ClusterId, o.RedisConnectionString, o.ListenAddress, o.AdvertisedHost, o.SiloPort));
        Assert.Equal("127.0.0.1", o.EffectiveListenAddress); // one machine: not reachable from the network
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2)), (o.HeartbeatInterval, o.DeathTimeout, o.RedisOperationTimeout, o.ConnectTimeout));
        Assert.Equal((16 * 1024 * 1024, TimeSpan.FromHours(1), false), (o.MaxFrameSize, o.DefunctRowAge, o.PreferLocalPlacement));
        Assert.Empty(o.Validate());
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)), (new ClusterClientOptions().RefreshInterval, new ClusterClientOptions().ResponseTimeout));
    }

    [Theory]
    [InlineData("127.0.0.1", null, "127.0.0.1")]
    [InlineData("localhost", null, "127.0.0.1")]
    [InlineData("::1", null, "::1")]
    [InlineData("10.0.0.5", null, "0.0.0.0")] // advertised to other machines: listens on every interface
    [InlineData("silo-1.internal", null, "0.0.0.0")]
    [InlineData("10.0.0.5", "10.0.0.5", "10.0.0.5")] // set: as set
    [InlineData("127.0.0.1", "0.0.0.0", "0.0.0.0")]
    public void EffectiveListenAddress_LoopbackWhileAdvertisingLoopback_ElseEveryInterface_UnlessSet(string advertised, string? listen, string expected)
    {
        var o = new ClusterOptions { AdvertisedHost = advertised, ListenAddress = listen };

        Assert.Equal(expected, o.EffectiveListenAddress);
        Assert.Empty(o.Validate());
    }

    [Fact]
    public void Validate_EveryBadValue_ReportedByNameWithValue()
    {
        var o = new ClusterOptions { ClusterId = "", ListenAddress = "nowhere", SiloPort = 70000, HeartbeatInterval = TimeSpan.FromSeconds(5), DeathTimeout = TimeSpan.FromSeconds(6), MaxFrameSize = 10 };

        var errors = o.Validate();

        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, e => e.Contains("ClusterId", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("ListenAddress", StringComparison.Ordinal) && e.Contains("nowhere", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("SiloPort", StringComparison.Ordinal) && e.Contains("70000", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("DeathTimeout", StringComparison.Ordinal) && e.Contains("00:00:06", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("MaxFrameSize", StringComparison.Ordinal) && e.Contains("10", StringComparison.Ordinal));
        Assert.Single(new ClusterClientOptions().Validate());
    }
}
