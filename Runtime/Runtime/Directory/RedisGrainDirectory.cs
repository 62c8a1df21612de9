using Conduit.Runtime.Cluster;
using Conduit.Runtime.Membership;
using StackExchange.Redis;

namespace Conduit.Runtime.Directory;

/// <summary>
/// The grain directory in Redis: one string key per grain holding "silo activationId". Registration
/// is one Lua script (set if absent or if the owner's membership row is dead or missing), so two silos
/// racing on a first call agree on one winner; unregistration is compare-and-delete.
/// </summary>
internal sealed class RedisGrainDirectory(RedisConnection redis) : IGrainDirectory
{
    // An owner without a membership row counts as dead: rows are written before any registration,
    // and a row only disappears with the whole data set (Redis restarted empty) or after cleanup of dead rows.
    private const string RegisterScript = """
        local cur = redis.call('GET', KEYS[1])
        if cur then
          local owner = string.match(cur, '^(%S+)')
          local row = redis.call('HGET', KEYS[2], owner)
          if row and cjson.decode(row).status ~= 'Dead' then return cur end
        end
        redis.call('SET', KEYS[1], ARGV[1])
        return ARGV[1]
        """;

    private const string UnregisterScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private const string LookupScript = """
        local cur = redis.call('GET', KEYS[1])
        if not cur then return false end
        local owner = string.match(cur, '^(%S+)')
        local row = redis.call('HGET', KEYS[2], owner)
        if row and cjson.decode(row).status ~= 'Dead' then return cur end
        return false
        """;

    private readonly RedisKey _rowsKey = RedisMembershipTable.RowsKey(redis);

    public async Task<GrainAddress> RegisterAsync(GrainAddress address, CancellationToken cancellationToken)
    {
        var result = await redis.EvalAsync(RegisterScript, [Key(address.Grain), _rowsKey], [Format(address)], cancellationToken);
        return Parse(address.Grain, (string)result!);
    }

    public async Task<bool> UnregisterAsync(GrainAddress address, CancellationToken cancellationToken)
    {
        var result = await redis.EvalAsync(UnregisterScript, [Key(address.Grain)], [Format(address)], cancellationToken);
        return (long)result == 1;
    }

    public async Task<GrainAddress?> LookupAsync(GrainId grain, CancellationToken cancellationToken)
    {
        var result = await redis.EvalAsync(LookupScript, [Key(grain), _rowsKey], [], cancellationToken);
        return result.IsNull ? null : Parse(grain, (string)result!);
    }

    private RedisKey Key(GrainId grain) => redis.Prefix + "dir:" + grain;

    private static string Format(GrainAddress address) => address.Silo + " " + address.ActivationId;

    private static GrainAddress Parse(GrainId grain, string value)
    {
        var space = value.IndexOf(' ');
        return new GrainAddress(grain, SiloAddress.Parse(value[..space]), value[(space + 1)..]);
    }
}
