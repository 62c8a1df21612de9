using Conduit.Runtime.Cluster;
using StackExchange.Redis;

namespace Conduit.Runtime.Storage.Redis;

/// <summary>
/// Grain state in Redis: one hash (data, etag) per grain and state name. Writes and clears are Lua
/// compare-and-set on the etag; a fresh random etag per write, so a clear followed by a new write
/// never makes an old etag valid again.
/// </summary>
internal sealed class RedisGrainStorage : IGrainStorage
{
    private const string WriteScript = """
        local cur = redis.call('HGET', KEYS[1], 'etag')
        if (cur or '') ~= ARGV[1] then return { 0, cur or '' } end
        redis.call('HSET', KEYS[1], 'data', ARGV[2], 'etag', ARGV[3])
        return { 1, ARGV[3] }
        """;

    private const string ClearScript = """
        local cur = redis.call('HGET', KEYS[1], 'etag')
        if (cur or '') ~= ARGV[1] then return { 0, cur or '' } end
        redis.call('DEL', KEYS[1])
        return { 1, '' }
        """;

    private readonly Func<Task<RedisConnection>> _connection;
    private readonly string _storeName;

    /// <summary>A store on an open connection.</summary>
    public RedisGrainStorage(RedisConnection redis, string storeName)
        : this(() => Task.FromResult(redis), storeName)
    {
    }

    /// <summary>A store whose connection is opened on first use.</summary>
    public RedisGrainStorage(Func<Task<RedisConnection>> connection, string storeName)
    {
        _connection = connection;
        _storeName = storeName;
    }

    public async Task<StoredState?> ReadAsync(string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        var redis = await _connection();
        var values = await redis.RunAsync(db => db.HashGetAsync(Key(redis, stateName, grainId), ["data", "etag"]), cancellationToken);
        if (values[1].IsNull)
        {
            return null;
        }

        return new StoredState((byte[])values[0]!, (string)values[1]!);
    }

    public async Task<string> WriteAsync(string stateName, GrainId grainId, ReadOnlyMemory<byte> data, string? expectedEtag, CancellationToken cancellationToken)
    {
        var etag = Guid.NewGuid().ToString("N");
        var redis = await _connection();
        var result = (RedisResult[])(await redis.EvalAsync(WriteScript, [Key(redis, stateName, grainId)], [expectedEtag ?? string.Empty, data.ToArray(), etag], cancellationToken))!;
        ThrowIfConflict(result, "write", stateName, grainId, expectedEtag);
        return etag;
    }

    public async Task ClearAsync(string stateName, GrainId grainId, string? expectedEtag, CancellationToken cancellationToken)
    {
        var redis = await _connection();
        var result = (RedisResult[])(await redis.EvalAsync(ClearScript, [Key(redis, stateName, grainId)], [expectedEtag ?? string.Empty], cancellationToken))!;
        ThrowIfConflict(result, "clear", stateName, grainId, expectedEtag);
    }

    private static void ThrowIfConflict(RedisResult[] result, string operation, string stateName, GrainId grainId, string? expectedEtag)
    {
        if ((long)result[0] == 1)
        {
            return;
        }

        var stored = (string)result[1]!;
        throw new InconsistentStateException(
            $"Redis {operation} of state '{stateName}' of {grainId} expected etag '{expectedEtag ?? "(none)"}' but the store has '{(stored.Length == 0 ? "(none)" : stored)}'.",
            stored.Length == 0 ? null : stored,
            expectedEtag);
    }

    private RedisKey Key(RedisConnection redis, string stateName, GrainId grainId) => $"{redis.Prefix}state:{_storeName}:{stateName}:{grainId}";
}
