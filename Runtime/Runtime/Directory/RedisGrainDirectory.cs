using Conduit.Runtime.Cluster;
using Conduit.Runtime.Membership;
using StackExchange.Redis;

namespace Conduit.Runtime.Directory;

/// <summary>
/// The grain directory in Redis: one string key per grain holding "silo activationId". Registration
/// is one Lua script (set if absent or if the owner's membership row is dead or missing), so two silos
/// racing on a first call agree on one winner; unregistration is compare-and-delete. Each silo's
/// entries are also listed in a set of that silo ("dir-silo:{silo}", kept in the same scripts), so that
/// the entries of a silo that died without unregistering can be found and deleted.
/// </summary>
internal sealed class RedisGrainDirectory(RedisConnection redis) : IGrainDirectory
{
    // An owner without a membership row counts as dead: rows are written before any registration,
    // and a row only disappears with the whole data set (Redis restarted empty) or after cleanup of dead rows.
    // The set of a replaced dead owner is named from its address in the script: fine for one Redis server (this
    // directory does not support Redis Cluster, where a script must declare every key it touches).
    private const string RegisterScript = """
        local cur = redis.call('GET', KEYS[1])
        if cur then
          local owner = string.match(cur, '^(%S+)')
          local row = redis.call('HGET', KEYS[2], owner)
          if row and cjson.decode(row).status ~= 'Dead' then return cur end
          redis.call('SREM', ARGV[3] .. owner, ARGV[2])
        end
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SADD', KEYS[3], ARGV[2])
        return ARGV[1]
        """;

    private const string UnregisterScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SREM', KEYS[2], ARGV[2])
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """;

    // One batch of a dead silo's set: entries it still owns are deleted, entries another silo took over are left alone.
    // Batches keep each script short, so Redis is not blocked by a silo that had many activations. SPOP is not
    // deterministic: before Redis 5 a script may write after it only when it replicates its effects (a no-op since 7).
    private const string UnregisterSiloScript = """
        redis.replicate_commands()
        local grains = redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))
        local removed = 0
        for _, grain in ipairs(grains) do
          local key = ARGV[2] .. grain
          local cur = redis.call('GET', key)
          if cur and string.match(cur, '^(%S+)') == ARGV[1] then
            redis.call('DEL', key)
            removed = removed + 1
          end
        end
        return { #grains, removed }
        """;

    private const int UnregisterSiloBatch = 500;

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
        var result = await redis.EvalAsync(
            RegisterScript, [Key(address.Grain), _rowsKey, SetKey(address.Silo)], [Format(address), address.Grain.ToString(), SetPrefix], cancellationToken);
        return Parse(address.Grain, (string)result!);
    }

    public async Task<bool> UnregisterAsync(GrainAddress address, CancellationToken cancellationToken)
    {
        var result = await redis.EvalAsync(UnregisterScript, [Key(address.Grain), SetKey(address.Silo)], [Format(address), address.Grain.ToString()], cancellationToken);
        return (long)result == 1;
    }

    public async Task<int> UnregisterSiloAsync(SiloAddress silo, CancellationToken cancellationToken)
    {
        var removed = 0;
        while (true)
        {
            var result = (RedisResult[])(await redis.EvalAsync(
                UnregisterSiloScript, [SetKey(silo)], [silo.ToString(), DirPrefix, UnregisterSiloBatch], cancellationToken))!;
            removed += (int)(long)result[1];
            if ((long)result[0] < UnregisterSiloBatch)
            {
                return removed;
            }
        }
    }

    public async Task<GrainAddress?> LookupAsync(GrainId grain, CancellationToken cancellationToken)
    {
        var result = await redis.EvalAsync(LookupScript, [Key(grain), _rowsKey], [], cancellationToken);
        return result.IsNull ? null : Parse(grain, (string)result!);
    }

    private string DirPrefix => redis.Prefix + "dir:";

    private string SetPrefix => redis.Prefix + "dir-silo:";

    private RedisKey Key(GrainId grain) => DirPrefix + grain;

    private RedisKey SetKey(SiloAddress silo) => SetPrefix + silo;

    private static string Format(GrainAddress address) => address.Silo + " " + address.ActivationId;

    private static GrainAddress Parse(GrainId grain, string value)
    {
        var space = value.IndexOf(' ');
        return new GrainAddress(grain, SiloAddress.Parse(value[..space]), value[(space + 1)..]);
    }
}
