using System.Text;
using Conduit.Runtime;
using Conduit.Runtime.Storage.Redis;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Cluster;

public sealed class RedisGrainStorageTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly GrainId Grain = new("counter", "a");

    private async Task<RedisGrainStorage> CreateAsync() => new(await redis.ConnectAsync(), "Default");

    [Fact]
    public async Task ReadAsync_NothingStored_ReturnsNull()
    {
        var storage = await CreateAsync();

        Assert.Null(await storage.ReadAsync("state", Grain, default));
    }

    [Fact]
    public async Task WriteAsync_ThenRead_ReturnsDataAndEtag()
    {
        var storage = await CreateAsync();

        var etag = await storage.WriteAsync("state", Grain, Encoding.UTF8.GetBytes("{\"n\":1}"), null, default);
        var etag2 = await storage.WriteAsync("state", Grain, Encoding.UTF8.GetBytes("{\"n\":2}"), etag, default);

        var stored = await storage.ReadAsync("state", Grain, default);
        Assert.NotNull(stored);
        Assert.Equal("{\"n\":2}", Encoding.UTF8.GetString(stored.Data.Span));
        Assert.Equal(etag2, stored.Etag);
        Assert.NotEqual(etag, etag2);
    }

    [Fact]
    public async Task WriteAsync_StaleEtag_ThrowsInconsistentState()
    {
        var storage = await CreateAsync();
        var etag = await storage.WriteAsync("state", Grain, new byte[] { 1 }, null, default);
        await storage.WriteAsync("state", Grain, new byte[] { 2 }, etag, default);

        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync("state", Grain, new byte[] { 3 }, etag, default));

        Assert.Equal(etag, e.CurrentEtag);
        Assert.Equal(new byte[] { 2 }, (await storage.ReadAsync("state", Grain, default))!.Data.ToArray());
    }

    [Fact]
    public async Task WriteAsync_NoEtagButRecordExists_ThrowsInconsistentState()
    {
        var storage = await CreateAsync();
        await storage.WriteAsync("state", Grain, new byte[] { 1 }, null, default);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync("state", Grain, new byte[] { 2 }, null, default));
    }

    [Fact]
    public async Task ClearAsync_ThenWriteWithOldEtag_ThrowsInconsistentState()
    {
        var storage = await CreateAsync();
        var etag = await storage.WriteAsync("state", Grain, new byte[] { 1 }, null, default);

        await storage.ClearAsync("state", Grain, etag, default);

        Assert.Null(await storage.ReadAsync("state", Grain, default));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteAsync("state", Grain, new byte[] { 2 }, etag, default));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearAsync("state", Grain, etag, default));
    }

    [Fact]
    public async Task WriteAsync_StoresPerStateNameAndStore()
    {
        var connection = await redis.ConnectAsync();
        var a = new RedisGrainStorage(connection, "A");
        var b = new RedisGrainStorage(connection, "B");

        await a.WriteAsync("state", Grain, new byte[] { 1 }, null, default);

        Assert.Null(await b.ReadAsync("state", Grain, default));
        Assert.Null(await a.ReadAsync("other", Grain, default));
    }
}
