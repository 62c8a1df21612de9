using System.Diagnostics;
using Conduit.Runtime;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Directory;
using Conduit.Runtime.Membership;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;

namespace Conduit.Tests.Cluster;

/// <summary>Issue 3: redis-server stopped and started again mid-test, with its data and empty.</summary>
public sealed class ClusterRedisOutageTests
{
    [Fact]
    public async Task SiloStarting_WhileRedisDoesNotAnswerForAMoment_WaitsItOutAndJoins()
    {
        await using var server = await RedisServer.StartNewAsync();
        await using var cluster = await TestCluster.StartAsync(1, server);

        // Redis holds every client's writes (scripts included) for 2.5 s, longer than the 1 s operation timeout of test
        // silos, while it still answers the new silo's connection handshake: its first membership writes time out, and
        // it must retry rather than fail its start.
        Assert.Equal("+OK", await server.CommandAsync("CLIENT PAUSE 2500 WRITE"));
        var started = Stopwatch.GetTimestamp();
        var joining = await cluster.StartSiloAsync();
        Assert.True(Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(1), $"joined after {Stopwatch.GetElapsedTime(started)}: Redis was not paused");

        await using var redis = await RedisConnection.ConnectAsync(server.ConnectionString, cluster.ClusterId, TimeSpan.FromSeconds(5));
        var rows = (await new RedisMembershipTable(redis).ReadAllAsync(default)).Entries;
        Assert.Equal(SiloStatus.Active, rows.Single(e => e.Silo == joining.Address).Status);
        Assert.Equal(2, rows.Count(e => e.Status == SiloStatus.Active));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RedisRestart_MidTest_ExistingGrainsServeNewOnesFailFastThenAllResumes_Issue3(bool withData)
    {
        await using var server = await RedisServer.StartNewAsync(persistent: true);
        await using var cluster = await TestCluster.StartAsync(2, server);
        var client = await cluster.StartClientAsync();
        var keys = Enumerable.Range(0, 20).Select(i => "o" + i).ToList();
        await Task.WhenAll(keys.Select(k => client.GetGrain<ICounterGrain>(k).Increment())).WaitAsync(TimeSpan.FromSeconds(20));

        await server.StopAsync();

        // Existing activations keep serving.
        foreach (var key in keys)
        {
            Assert.Equal(1, await client.GetGrain<ICounterGrain>(key).Get().WaitAsync(TimeSpan.FromSeconds(5)));
        }

        // A new activation fails fast with a clear error.
        var started = Stopwatch.GetTimestamp();
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => client.GetGrain<ICounterGrain>("new-in-outage").Increment());
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(3), $"took {Stopwatch.GetElapsedTime(started)}");
        Assert.Contains("directory", error.Message, StringComparison.OrdinalIgnoreCase);

        // The outage lasts longer than the death timeout: nobody may be declared dead for it.
        await Task.Delay(TestCluster.DeathTimeout * 3);
        await server.StartAsync(keepData: withData);

        Assert.True(await Retry.UntilAsync(async () => await client.GetGrain<ICounterGrain>("after-outage").Increment() >= 1, TimeSpan.FromSeconds(20)));
        await using var redis = await RedisConnection.ConnectAsync(server.ConnectionString, cluster.ClusterId, TimeSpan.FromSeconds(5));
        var table = new RedisMembershipTable(redis);
        Assert.True(await Retry.UntilAsync(async () => (await table.ReadAllAsync(default)).Entries.Count(e => e.Status == SiloStatus.Active) == 2, TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain((await table.ReadAllAsync(default)).Entries, e => e.Status == SiloStatus.Dead);
        Assert.All(cluster.Silos, s => Assert.True(s.IsRunning));

        var directory = new RedisGrainDirectory(redis);
        foreach (var key in keys)
        {
            var grain = new GrainId("counter", key);
            Assert.Equal(1, await client.GetGrain<ICounterGrain>(key).Get().WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(1, cluster.CountActivations(grain));
            Assert.True(await Retry.UntilAsync(async () => (await directory.LookupAsync(grain, default))?.Silo == cluster.FindHost(grain)!.Address, TimeSpan.FromSeconds(10)),
                $"directory entry of {grain} was not restored");
        }
    }

    [Fact]
    public async Task RedisDown_GrainsDeactivating_TheirFailedUnregistrationsAreOneWarningNotOnePerGrain()
    {
        await using var server = await RedisServer.StartNewAsync();
        await using var cluster = await TestCluster.StartAsync(1, server);
        var grains = cluster.Silos[0].GrainFactory;
        var keys = Enumerable.Range(0, 20).Select(i => "leaving" + i).ToList();
        await Task.WhenAll(keys.Select(k => grains.GetGrain<IStateGrain>(k).Get())).WaitAsync(TimeSpan.FromSeconds(20));

        await server.StopAsync();
        await Task.WhenAll(keys.Select(k => grains.GetGrain<IStateGrain>(k).Deactivate())).WaitAsync(TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => cluster.Silos[0].CountActivations("state") == 0, because: "the grains did not deactivate");
        static bool Unregistering(string line) => line.Contains("Could not unregister", StringComparison.Ordinal);
        await Eventually.TrueAsync(() => cluster.Log.Lines.Any(Unregistering), because: "no unregistration failed: Redis was not down");
        await Task.Delay(TimeSpan.FromSeconds(2)); // the others fail meanwhile (the operation timeout is 1 s here)

        // One line says it; twenty would bury whatever else the outage logs (one per agent of a busy gateway in a soak).
        Assert.Single(cluster.Log.Lines, Unregistering);
    }
}
