using System.Text.Json;
using Conduit.Runtime;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Transport;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;

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
        await using var stranger = await FrameConnection.ConnectAsync("127.0.0.1", silo.Address.Port, 1 << 20, TimeSpan.FromSeconds(5), default);
        var received = new List<MessageKind>();
        stranger.Start((_, in payload) => { lock (received) { received.Add((MessageKind)payload.Slice(1, 1).FirstSpan[0]); } }, (_, _) => { });
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
        await using var silent = await FrameConnection.ConnectAsync("127.0.0.1", silo.Address.Port, 1 << 20, TimeSpan.FromSeconds(5), default);
        var received = new List<MessageKind>();
        silent.Start((_, in payload) => { lock (received) { received.Add((MessageKind)payload.Slice(1, 1).FirstSpan[0]); } }, (_, _) => { });

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

        Assert.Contains("did not prove the cluster key", Describe(failure), StringComparison.Ordinal);
        Assert.Equal(0, cluster.CountActivations(new GrainId("counter", "unproven")));
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
    public void ShortKey_RefusedByNameWithoutShowingIt()
    {
        var errors = new ClusterOptions { ClusterKey = "short secret" }.Validate();
        var clientErrors = new ClusterClientOptions { RedisConnectionString = "127.0.0.1:6379", ClusterKey = "short secret" }.Validate();

        Assert.Equal("Cluster:ClusterKey must be at least 16 characters (was 12).", Assert.Single(errors));
        Assert.Equal("ClusterClient:ClusterKey must be at least 16 characters (was 12).", Assert.Single(clientErrors));
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
