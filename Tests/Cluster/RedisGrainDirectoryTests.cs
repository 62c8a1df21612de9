using Conduit.Runtime;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Directory;
using Conduit.Runtime.Membership;
using Conduit.Tests.Infrastructure;
using StackExchange.Redis;

namespace Conduit.Tests.Cluster;

public sealed class RedisGrainDirectoryTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly SiloAddress SiloA = new("127.0.0.1", 1, 11);
    private static readonly SiloAddress SiloB = new("127.0.0.1", 2, 22);

    private async Task<(RedisGrainDirectory Directory, RedisMembershipTable Table, RedisConnection Connection)> CreateAsync(params SiloAddress[] live)
    {
        var connection = await redis.ConnectAsync();
        var table = new RedisMembershipTable(connection);
        var version = 0;
        foreach (var silo in live)
        {
            Assert.True(await table.TryWriteAsync(new MembershipEntry(silo, SiloStatus.Active, T0, T0, "h", null), version++, default));
        }

        return (new RedisGrainDirectory(connection), table, connection);
    }

    [Fact]
    public async Task RegisterAsync_TwoSilosRacing200Grains_OneWinnerEach()
    {
        var (directory, _, connection) = await CreateAsync(SiloA, SiloB);
        var other = new RedisGrainDirectory(connection);
        var grains = Enumerable.Range(0, 200).Select(i => new GrainId("race", i.ToString())).ToList();

        var a = grains.Select(g => directory.RegisterAsync(new GrainAddress(g, SiloA, "a-" + g.Key), default)).ToList();
        var b = grains.Select(g => other.RegisterAsync(new GrainAddress(g, SiloB, "b-" + g.Key), default)).ToList();
        var winnersA = await Task.WhenAll(a).WaitAsync(TimeSpan.FromSeconds(10));
        var winnersB = await Task.WhenAll(b).WaitAsync(TimeSpan.FromSeconds(10));

        for (var i = 0; i < grains.Count; i++)
        {
            Assert.Equal(winnersA[i], winnersB[i]);
            Assert.Equal(winnersA[i], await directory.LookupAsync(grains[i], default));
        }
    }

    [Fact]
    public async Task RegisterAsync_OwnerAlive_ReturnsExistingEntry()
    {
        var (directory, _, _) = await CreateAsync(SiloA, SiloB);
        var grain = new GrainId("g", "1");
        var first = new GrainAddress(grain, SiloA, "x");
        await directory.RegisterAsync(first, default);

        var result = await directory.RegisterAsync(new GrainAddress(grain, SiloB, "y"), default);

        Assert.Equal(first, result);
    }

    [Fact]
    public async Task RegisterAsync_OwnerDeclaredDead_Replaced()
    {
        var (directory, table, _) = await CreateAsync(SiloA, SiloB);
        var grain = new GrainId("g", "1");
        await directory.RegisterAsync(new GrainAddress(grain, SiloA, "x"), default);
        await DeclareDeadAsync(table, SiloA);

        Assert.Null(await directory.LookupAsync(grain, default));
        var replacement = new GrainAddress(grain, SiloB, "y");
        Assert.Equal(replacement, await directory.RegisterAsync(replacement, default));
    }

    [Fact]
    public async Task RegisterAsync_OwnerWithoutMembershipRow_Replaced()
    {
        var (directory, _, _) = await CreateAsync(SiloB);
        var grain = new GrainId("g", "1");
        await directory.RegisterAsync(new GrainAddress(grain, SiloA, "x"), default);

        var replacement = new GrainAddress(grain, SiloB, "y");

        Assert.Equal(replacement, await directory.RegisterAsync(replacement, default));
    }

    [Fact]
    public async Task UnregisterAsync_OtherActivation_KeepsEntry()
    {
        var (directory, _, _) = await CreateAsync(SiloA);
        var grain = new GrainId("g", "1");
        var entry = new GrainAddress(grain, SiloA, "x");
        await directory.RegisterAsync(entry, default);

        Assert.False(await directory.UnregisterAsync(entry with { ActivationId = "old" }, default));
        Assert.Equal(entry, await directory.LookupAsync(grain, default));
        Assert.True(await directory.UnregisterAsync(entry, default));
        Assert.Null(await directory.LookupAsync(grain, default));
    }

    [Fact]
    public async Task UnregisterSiloAsync_DeadSiloWithManyEntries_DeletesOnlyThoseItStillOwns()
    {
        var (directory, table, connection) = await CreateAsync(SiloA, SiloB);
        var grains = Enumerable.Range(0, 1_234).Select(i => new GrainId("crashed", i.ToString())).ToList(); // more than two batches
        await Task.WhenAll(grains.Select(g => directory.RegisterAsync(new GrainAddress(g, SiloA, "a"), default)));
        Assert.True(await directory.UnregisterAsync(new GrainAddress(grains[0], SiloA, "a"), default)); // went before the crash
        await DeclareDeadAsync(table, SiloA);
        // Another silo took some of the dead silo's grains over before the sweep: those entries are its own now.
        var takenOver = grains.Skip(1).Take(10).Select(g => new GrainAddress(g, SiloB, "b")).ToList();
        foreach (var entry in takenOver)
        {
            Assert.Equal(entry, await directory.RegisterAsync(entry, default));
        }

        Assert.Equal(grains.Count - 1 - takenOver.Count, await directory.UnregisterSiloAsync(SiloA, default));

        foreach (var entry in takenOver)
        {
            Assert.Equal(entry, await directory.LookupAsync(entry.Grain, default));
        }

        // Nothing of the dead silo is left in Redis: neither its entries nor its list of them.
        var keys = await KeysAsync(connection);
        Assert.Equal(takenOver.Count, keys.Count(k => k.StartsWith(connection.Prefix + "dir:", StringComparison.Ordinal)));
        Assert.Equal([connection.Prefix + "dir-silo:" + SiloB], keys.Where(k => k.Contains("dir-silo:", StringComparison.Ordinal)));
        Assert.Equal(0, await directory.UnregisterSiloAsync(SiloA, default)); // a second sweep (another silo's) finds nothing
    }

    [Fact]
    public async Task RegisterAndUnregister_ManyGrains_LeaveNoKeyBehind()
    {
        var (directory, table, connection) = await CreateAsync(SiloA, SiloB);
        var keysBefore = await KeysAsync(connection);
        var entries = Enumerable.Range(0, 100).Select(i => new GrainAddress(new GrainId("g", i.ToString()), i % 2 == 0 ? SiloA : SiloB, "x")).ToList();
        await Task.WhenAll(entries.Select(e => directory.RegisterAsync(e, default)));

        await DeclareDeadAsync(table, SiloA);
        // The dead silo's grains activated again on the live one: the replaced entries leave the dead silo's list too.
        var moved = entries.Where(e => e.Silo == SiloA).Select(e => e with { Silo = SiloB, ActivationId = "y" }).ToList();
        await Task.WhenAll(moved.Select(e => directory.RegisterAsync(e, default)));
        await Task.WhenAll(moved.Concat(entries.Where(e => e.Silo == SiloB)).Select(e => directory.UnregisterAsync(e, default)));

        Assert.Equal(keysBefore, await KeysAsync(connection));
    }

    private static async Task DeclareDeadAsync(RedisMembershipTable table, SiloAddress silo)
    {
        var snapshot = await table.ReadAllAsync(default);
        Assert.True(await table.TryWriteAsync(snapshot.Find(silo)! with { Status = SiloStatus.Dead }, snapshot.Version, default));
    }

    private static async Task<List<string>> KeysAsync(RedisConnection connection)
    {
        var keys = (RedisResult[])(await connection.EvalAsync("return redis.call('KEYS', ARGV[1])", [], [connection.Prefix + "*"], default))!;
        return keys.Select(k => (string)k!).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task LookupAsync_RedisStopped_ThrowsRedisUnavailableThenRecovers()
    {
        await using var server = await RedisServer.StartNewAsync();
        await using var connection = await RedisConnection.ConnectAsync(server.ConnectionString, "c", TimeSpan.FromSeconds(2));
        var table = new RedisMembershipTable(connection);
        var directory = new RedisGrainDirectory(connection);
        await table.TryWriteAsync(new MembershipEntry(SiloA, SiloStatus.Active, T0, T0, "h", null), 0, default);
        var grain = new GrainId("g", "1");
        await directory.RegisterAsync(new GrainAddress(grain, SiloA, "x"), default);

        await server.StopAsync();
        await Assert.ThrowsAsync<RedisUnavailableException>(() => directory.LookupAsync(grain, default).WaitAsync(TimeSpan.FromSeconds(5)));

        await server.StartAsync(keepData: false);
        var recovered = await Retry.UntilAsync(async () => await directory.LookupAsync(grain, default) is null, TimeSpan.FromSeconds(10));
        Assert.True(recovered);
        Assert.Null(await table.HeartbeatAsync(SiloA, T0, default));
    }
}
