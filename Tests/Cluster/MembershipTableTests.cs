using Conduit.Runtime.Membership;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Cluster;

/// <summary>The contract of <see cref="IMembershipTable"/>, run against each implementation.</summary>
public abstract class MembershipTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private protected abstract Task<IMembershipTable> CreateTableAsync();

    private static MembershipEntry Entry(int port, SiloStatus status) =>
        new(new SiloAddress("127.0.0.1", port, 1000 + port), status, T0, T0, "host", $"127.0.0.1:{port}");

    [Fact]
    public async Task TryWriteAsync_CurrentVersion_WritesAndBumpsVersion()
    {
        var table = await CreateTableAsync();

        Assert.True(await table.TryWriteAsync(Entry(1, SiloStatus.Joining), 0, default));
        Assert.True(await table.TryWriteAsync(Entry(1, SiloStatus.Active), 1, default));

        var snapshot = await table.ReadAllAsync(default);
        Assert.Equal(2, snapshot.Version);
        var row = Assert.Single(snapshot.Entries);
        Assert.Equal(Entry(1, SiloStatus.Active), row);
    }

    [Fact]
    public async Task TryWriteAsync_StaleVersion_ReturnsFalseAndWritesNothing()
    {
        var table = await CreateTableAsync();
        Assert.True(await table.TryWriteAsync(Entry(1, SiloStatus.Active), 0, default));

        Assert.False(await table.TryWriteAsync(Entry(2, SiloStatus.Active), 0, default));

        var snapshot = await table.ReadAllAsync(default);
        Assert.Equal(1, snapshot.Version);
        Assert.Single(snapshot.Entries);
    }

    [Fact]
    public async Task TryWriteAsync_DeadRowBackToActive_Refused()
    {
        var table = await CreateTableAsync();
        await table.TryWriteAsync(Entry(1, SiloStatus.Dead), 0, default);

        Assert.False(await table.TryWriteAsync(Entry(1, SiloStatus.Active), 1, default));
    }

    [Fact]
    public async Task HeartbeatAsync_LiveRow_UpdatesTimeNotVersion()
    {
        var table = await CreateTableAsync();
        await table.TryWriteAsync(Entry(1, SiloStatus.Active), 0, default);

        var status = await table.HeartbeatAsync(Entry(1, SiloStatus.Active).Silo, T0.AddSeconds(7), default);

        Assert.Equal(SiloStatus.Active, status);
        var snapshot = await table.ReadAllAsync(default);
        Assert.Equal(1, snapshot.Version);
        Assert.Equal(T0.AddSeconds(7), snapshot.Entries[0].IAmAliveTime);
    }

    [Fact]
    public async Task HeartbeatAsync_DeadRow_ReturnsDeadAndKeepsTime()
    {
        var table = await CreateTableAsync();
        await table.TryWriteAsync(Entry(1, SiloStatus.Dead), 0, default);

        var status = await table.HeartbeatAsync(Entry(1, SiloStatus.Dead).Silo, T0.AddSeconds(7), default);

        Assert.Equal(SiloStatus.Dead, status);
        Assert.Equal(T0, (await table.ReadAllAsync(default)).Entries[0].IAmAliveTime);
    }

    [Fact]
    public async Task HeartbeatAsync_MissingRow_ReturnsNull()
    {
        var table = await CreateTableAsync();

        Assert.Null(await table.HeartbeatAsync(Entry(1, SiloStatus.Active).Silo, T0, default));
        Assert.Empty((await table.ReadAllAsync(default)).Entries);
    }

    [Fact]
    public async Task CleanupDeadAsync_OldDeadRows_Removed()
    {
        var table = await CreateTableAsync();
        await table.TryWriteAsync(Entry(1, SiloStatus.Dead), 0, default);
        await table.TryWriteAsync(Entry(2, SiloStatus.Active), 1, default);

        Assert.Equal(1, await table.CleanupDeadAsync(T0.AddSeconds(1), default));

        var snapshot = await table.ReadAllAsync(default);
        Assert.Equal(2, Assert.Single(snapshot.Entries).Silo.Port);
        Assert.Equal(3, snapshot.Version);
    }
}

public sealed class InMemoryMembershipTableTests : MembershipTableTests
{
    private protected override Task<IMembershipTable> CreateTableAsync() => Task.FromResult<IMembershipTable>(new InMemoryMembershipTable());
}

public sealed class RedisMembershipTableTests(RedisFixture redis) : MembershipTableTests, IClassFixture<RedisFixture>
{
    private protected override async Task<IMembershipTable> CreateTableAsync() => new RedisMembershipTable(await redis.ConnectAsync());
}
