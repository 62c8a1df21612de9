using System.Text.Json;
using Conduit.Runtime;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Transport;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conduit.Tests.Cluster;

/// <summary>
/// The cluster key (Cluster:ClusterKey): real silos on a real redis-server, real cluster clients, and a raw TCP
/// connection to the silo port playing the stranger.
/// </summary>
public sealed class ClusterKeyTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Key = "correct horse battery staple";

    [Fact]
    public async Task SameKeyEverywhere_CallsCrossSilosAndClients_AStrangerIsRefusedBeforeItsRequestIsRead()
    {
        await using var cluster = await TestCluster.StartAsync(2, redis.Server, o => o.ClusterKey = Key);
        await cluster.WhenAllActiveAsync();
        var client = await cluster.StartClientAsync(tune: o => o.ClusterKey = Key);

        // Grains on both silos, reached from the client and (the call chain's second hop) from silo to silo.
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.GetGrain<ICounterGrain>("key" + i).Increment())).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.All(results, r => Assert.Equal(1, r));
        Assert.All(cluster.Silos, s => Assert.True(s.ActivationCount > 0, $"silo {s.Address} got no grains"));

        // A stranger connects to the silo port and sends a request at once: refused, and the grain is never activated.
        var silo = cluster.Silos[0];
        var (stranger, received) = await ConnectRawAsync(silo.Address.Port);
        await using var _ = stranger;
        var codec = new MessageCodec(new JsonSerializerOptions());
        stranger.TrySend(codec.Encode(new ClusterMessage
        {
            Kind = MessageKind.Request, Id = 1, Target = "g:counter/stranger", Method = typeof(ICounterGrain).GetMethod(nameof(ICounterGrain.Increment)), Arguments = [],
        }));

        Assert.Null(await stranger.Closed.WaitAsync(TimeSpan.FromSeconds(5))); // closed by the silo, not by an error here
        Assert.Equal([MessageKind.Challenge, MessageKind.Fault], received); // the challenge, then why it was refused
        Assert.Equal(0, cluster.CountActivations(new GrainId("counter", "stranger")));
        Assert.Contains(cluster.Log.Lines, l => l.Contains("Refused a connection to the silo port", StringComparison.Ordinal) && l.Contains("Request frame before its handshake", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithOrWithoutAKey_AConnectionThatSaysNothing_IsClosedAfterTheConnectTimeout()
    {
        await using var cluster = await TestCluster.StartAsync(1, redis.Server); // no key: the handshake is required all the same
        var silo = cluster.Silos[0];
        var (silent, received) = await ConnectRawAsync(silo.Address.Port);
        await using var _ = silent;

        Assert.Null(await silent.Closed.WaitAsync(TimeSpan.FromSeconds(5))); // TestCluster's connect timeout is 1 s
        Assert.Equal([MessageKind.Challenge, MessageKind.Fault], received);
        Assert.Contains(cluster.Log.Lines, l => l.Contains("Refused a connection to the silo port", StringComparison.Ordinal) && l.Contains("no handshake within 1 s", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a different key, long enough", "did not prove the cluster key")]
    [InlineData(null, "sent no proof of the cluster key, which this silo requires")]
    public async Task ClientWithoutTheSilosKey_ItsCallsFailSayingWhy(string? clientKey, string reason)
    {
        await using var cluster = await TestCluster.StartAsync(1, redis.Server, o => o.ClusterKey = Key);
        var client = await cluster.StartClientAsync(tune: o => o.ClusterKey = clientKey);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => client.GetGrain<ICounterGrain>("refused").Increment().WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Contains(reason, Describe(failure), StringComparison.Ordinal);
        Assert.Equal(0, cluster.CountActivations(new GrainId("counter", "refused")));
        Assert.Contains(cluster.Log.Lines, l => l.Contains("Refused a connection to the silo port", StringComparison.Ordinal) && l.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientWithAKey_SiloWithout_TheClientRefusesTheSilo()
    {
        await using var cluster = await TestCluster.StartAsync(1, redis.Server);
        var client = await cluster.StartClientAsync(tune: o => o.ClusterKey = Key);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => client.GetGrain<ICounterGrain>("unproven").Increment().WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.Contains("sent no proof of the cluster key, which this process requires", Describe(failure), StringComparison.Ordinal);
        Assert.Equal(0, cluster.CountActivations(new GrainId("counter", "unproven")));
    }

    [Fact]
    public async Task KeyRotation_SilosOnEitherSideOfTheRollout_StillCallEachOther()
    {
        // Mid-rotation (every process got the new key as accepted first; now they move to proving with it, one by one): the
        // first silo still proves with the old key and accepts the new one, the second proves with the new key and accepts
        // the old one, and so does the gateway still at the first step. (A process that knew only the old key would refuse
        // the second silo's proof: that is why the new key is rolled out as accepted everywhere before anyone proves with it.)
        const string oldKey = "the old cluster key, long enough", newKey = "the new cluster key, long enough";
        var started = 0;
        await using var cluster = await TestCluster.StartAsync(2, redis.Server, o =>
        {
            var first = Interlocked.Increment(ref started) == 1;
            o.ClusterKey = first ? oldKey : newKey;
            o.AcceptedClusterKeys = [first ? newKey : oldKey];
        });
        await cluster.WhenAllActiveAsync();
        var client = await cluster.StartClientAsync(tune: o => (o.ClusterKey, o.AcceptedClusterKeys) = (oldKey, [newKey]));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.GetGrain<ICounterGrain>("rotating" + i).Increment())).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.All(results, r => Assert.Equal(1, r));
        Assert.All(cluster.Silos, s => Assert.True(s.ActivationCount > 0, $"silo {s.Address} got no grains"));
        Assert.DoesNotContain(cluster.Log.Lines, l => l.Contains("Refused a connection", StringComparison.Ordinal));
    }

    [Fact]
    public void AcceptedKeys_ProofsOfEitherKeyHold_AThirdDoesNot()
    {
        var before = new ClusterKeyProof("the old cluster key, long enough", ["the new cluster key, long enough"]);
        var after = new ClusterKeyProof("the new cluster key, long enough", ["the old cluster key, long enough"]);
        var stranger = new ClusterKeyProof("somebody else's key, long enough");

        Assert.True(after.VerifyHello(before.ForHello("c", "n", "client:a"), "c", "client:a", out _));
        Assert.True(before.VerifyHello(after.ForHello("c", "n", "client:a"), "c", "client:a", out _));
        Assert.True(before.VerifyAck(after.ForAck("n", "c", "silo"), "n", "c", "silo"));
        Assert.False(before.VerifyHello(stranger.ForHello("c", "n", "client:a"), "c", "client:a", out _));
        Assert.False(stranger.VerifyAck(before.ForAck("n", "c", "silo"), "n", "c", "silo"));
    }

    [Fact]
    public void Gateway_TakesTheSilosKeysFromTheClusterSection()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cluster:RedisConnectionString"] = "127.0.0.1:6379",
            ["Cluster:ClusterKey"] = "the new cluster key, long enough",
            ["Cluster:AcceptedClusterKeys:0"] = "the old cluster key, long enough",
        }).Build();
        using var provider = new ServiceCollection().AddClusterClient(configuration).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<ClusterClientOptions>>().Value;

        Assert.Equal("the new cluster key, long enough", options.ClusterKey);
        Assert.Equal(["the old cluster key, long enough"], options.AcceptedClusterKeys);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Proofs_HoldOnlyForTheSameKeyNoncesAndName()
    {
        var proof = new ClusterKeyProof(Key);
        var hello = proof.ForHello("challenge", "nonce", "client:a");

        Assert.True(proof.VerifyHello(hello, "challenge", "client:a", out var nonce));
        Assert.Equal("nonce", nonce);
        Assert.False(proof.VerifyHello(hello, "another challenge", "client:a", out _)); // replayed on a new connection
        Assert.False(proof.VerifyHello(hello, "challenge", "client:b", out _)); // under another name
        Assert.False(new ClusterKeyProof("another key, long enough").VerifyHello(hello, "challenge", "client:a", out _));
        Assert.False(proof.VerifyHello("nonce.bm90IGEgbWFj", "challenge", "client:a", out _)); // not a MAC
        Assert.False(proof.VerifyHello(null, "challenge", "client:a", out _));
        var ack = proof.ForAck("nonce", "challenge", "silo");
        Assert.True(proof.VerifyAck(ack, "nonce", "challenge", "silo"));
        Assert.False(proof.VerifyAck(ack, "nonce", "challenge", "another silo"));
        Assert.False(proof.VerifyAck(hello, "nonce", "challenge", "silo"));
    }

    [Fact]
    public void BadKeys_RefusedByNameWithoutShowingThem()
    {
        var errors = new ClusterOptions { ClusterKey = "short secret", AcceptedClusterKeys = ["long enough, this one", "tiny"] }.Validate();
        var clientErrors = new ClusterClientOptions { RedisConnectionString = "127.0.0.1:6379", ClusterKey = "short secret" }.Validate();
        var withoutOwn = new ClusterOptions { AcceptedClusterKeys = ["long enough, this one"] }.Validate();

        Assert.Equal(["Cluster:ClusterKey must be at least 16 characters (was 12).", "Cluster:AcceptedClusterKeys:1 must be at least 16 characters (was 4)."], errors);
        Assert.Equal("ClusterClient:ClusterKey must be at least 16 characters (was 12).", Assert.Single(clientErrors));
        Assert.Equal("Cluster:AcceptedClusterKeys needs Cluster:ClusterKey, the key this process proves with (it had 1 accepted keys and none of its own).", Assert.Single(withoutOwn));
    }

    /// <summary>A bare connection to a silo port, with no handshake of its own, and the kinds of the frames it receives.</summary>
    private static async Task<(FrameConnection Connection, List<MessageKind> Received)> ConnectRawAsync(int port)
    {
        var connection = await FrameConnection.ConnectAsync("127.0.0.1", port, 1 << 20, TimeSpan.FromSeconds(5), default);
        var received = new List<MessageKind>();
        connection.Start((_, in payload) => { lock (received) { received.Add((MessageKind)payload.Slice(1, 1).FirstSpan[0]); } }, (_, _) => { });
        return (connection, received);
    }

    private static string Describe(Exception e)
    {
        var text = new System.Text.StringBuilder();
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            text.Append(inner.GetType().Name).Append(": ").Append(inner.Message).Append(" | ");
        }

        return text.ToString();
    }
}
