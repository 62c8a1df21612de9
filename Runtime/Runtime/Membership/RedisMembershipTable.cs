using System.Globalization;
using System.Text.Json;
using Conduit.Runtime.Cluster;
using StackExchange.Redis;

namespace Conduit.Runtime.Membership;

/// <summary>
/// The membership table in Redis: a hash of rows (JSON, one field per silo), a hash of heartbeat
/// times and a version key; every status change is a Lua compare-and-set on the version. The
/// directory's Lua scripts read the rows' <c>status</c> to decide whether an owner is dead.
/// </summary>
internal sealed class RedisMembershipTable(RedisConnection redis) : IMembershipTable
{
    private const string ReadAllScript = """
        return { redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[3]) }
        """;

    private const string TryWriteScript = """
        local v = tonumber(redis.call('GET', KEYS[2]) or '0')
        if v ~= tonumber(ARGV[1]) then return 0 end
        local cur = redis.call('HGET', KEYS[1], ARGV[2])
        if cur and cjson.decode(cur).status == 'Dead' and ARGV[4] ~= 'Dead' then return 0 end
        redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
        redis.call('HSET', KEYS[3], ARGV[2], ARGV[5])
        redis.call('SET', KEYS[2], v + 1)
        return 1
        """;

    private const string HeartbeatScript = """
        local cur = redis.call('HGET', KEYS[1], ARGV[1])
        if not cur then return false end
        local st = cjson.decode(cur).status
        if st ~= 'Dead' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
        return st
        """;

    private const string CleanupScript = """
        local rows = redis.call('HGETALL', KEYS[1])
        local n = 0
        for i = 1, #rows, 2 do
          if cjson.decode(rows[i + 1]).status == 'Dead' then
            local alive = tonumber(redis.call('HGET', KEYS[3], rows[i]) or '0')
            if alive < tonumber(ARGV[1]) then
              redis.call('HDEL', KEYS[1], rows[i])
              redis.call('HDEL', KEYS[3], rows[i])
              n = n + 1
            end
          end
        end
        if n > 0 then redis.call('INCR', KEYS[2]) end
        return n
        """;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly RedisKey[] _keys = [redis.Prefix + "members", redis.Prefix + "members:version", redis.Prefix + "members:alive"];

    /// <summary>The Redis key of the rows hash (the directory scripts read it).</summary>
    public static RedisKey RowsKey(RedisConnection redis) => redis.Prefix + "members";

    public async Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await redis.EvalAsync(ReadAllScript, _keys, [], cancellationToken))!;
        var version = long.Parse((string)result[0]!, CultureInfo.InvariantCulture);
        var rows = (RedisValue[])result[1]!;
        var alive = (RedisValue[])result[2]!;
        var aliveBySilo = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < alive.Length; i += 2)
        {
            aliveBySilo[(string)alive[i]!] = (long)alive[i + 1];
        }

        var entries = new List<MembershipEntry>(rows.Length / 2);
        for (var i = 0; i + 1 < rows.Length; i += 2)
        {
            var row = JsonSerializer.Deserialize<Row>((string)rows[i + 1]!, JsonOptions)!;
            aliveBySilo.TryGetValue(row.Silo, out var aliveMs);
            entries.Add(new MembershipEntry(
                SiloAddress.Parse(row.Silo),
                Enum.Parse<SiloStatus>(row.Status),
                DateTimeOffset.FromUnixTimeMilliseconds(row.StartTime),
                DateTimeOffset.FromUnixTimeMilliseconds(aliveMs),
                row.HostName,
                row.GatewayEndpoint,
                row.DeclaredDeadBy));
        }

        return new MembershipSnapshot(entries, version);
    }

    public async Task<bool> TryWriteAsync(MembershipEntry entry, long expectedVersion, CancellationToken cancellationToken)
    {
        var row = new Row(entry.Silo.ToString(), entry.Status.ToString(), entry.StartTime.ToUnixTimeMilliseconds(), entry.HostName, entry.GatewayEndpoint, entry.DeclaredDeadBy);
        var result = await redis.EvalAsync(TryWriteScript, _keys,
            [expectedVersion, row.Silo, JsonSerializer.Serialize(row, JsonOptions), row.Status, entry.IAmAliveTime.ToUnixTimeMilliseconds()],
            cancellationToken);
        return (long)result == 1;
    }

    public async Task<SiloStatus?> HeartbeatAsync(SiloAddress silo, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = await redis.EvalAsync(HeartbeatScript, _keys, [silo.ToString(), now.ToUnixTimeMilliseconds()], cancellationToken);
        return result.IsNull ? null : Enum.Parse<SiloStatus>((string)result!);
    }

    public async Task<int> CleanupDeadAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var result = await redis.EvalAsync(CleanupScript, _keys, [before.ToUnixTimeMilliseconds()], cancellationToken);
        return (int)(long)result;
    }

    private sealed record Row(string Silo, string Status, long StartTime, string HostName, string? GatewayEndpoint, string? DeclaredDeadBy);
}
