using StackExchange.Redis;

namespace Conduit.Runtime.Cluster;

/// <summary>
/// One StackExchange.Redis multiplexer shared by membership, directory and storage of a process, with
/// the key prefix of the cluster and a bounded wait on every operation. The multiplexer reconnects by
/// itself; while it cannot, operations fail at once with <see cref="RedisUnavailableException"/>.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    /// <summary>How long a silo or client waits at start-up for Redis to connect and answer before its start fails.</summary>
    public static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(10);

    private readonly ConnectionMultiplexer _multiplexer;
    private readonly TimeSpan _operationTimeout;

    private RedisConnection(ConnectionMultiplexer multiplexer, string clusterId, TimeSpan operationTimeout)
    {
        _multiplexer = multiplexer;
        _operationTimeout = operationTimeout;
        Prefix = $"conduit:{clusterId}:";
        Database = multiplexer.GetDatabase();
    }

    /// <summary>"conduit:{clusterId}:", the prefix of every key of this cluster.</summary>
    public string Prefix { get; }

    /// <summary>The database (async API only).</summary>
    public IDatabase Database { get; }

    /// <summary>Whether the multiplexer currently has a connection.</summary>
    public bool IsConnected => _multiplexer.IsConnected;

    /// <summary>Connects; succeeds even if Redis is down at the moment (the multiplexer keeps retrying).</summary>
    public static async Task<RedisConnection> ConnectAsync(string connectionString, string clusterId, TimeSpan operationTimeout)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        return new RedisConnection(multiplexer, clusterId, operationTimeout);
    }

    /// <summary>Waits until the multiplexer is connected (at start-up), or throws <see cref="RedisUnavailableException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        while (!_multiplexer.IsConnected)
        {
            if (DateTime.UtcNow - started > timeout)
            {
                throw new RedisUnavailableException($"Redis ({_multiplexer.Configuration}) did not connect within {timeout}.");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Runs a Lua script; Redis failures and timeouts become <see cref="RedisUnavailableException"/>.</summary>
    public Task<RedisResult> EvalAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
        => RunAsync(db => db.ScriptEvaluateAsync(script, keys, values), cancellationToken);

    /// <summary>Runs an operation; Redis failures and timeouts become <see cref="RedisUnavailableException"/>.</summary>
    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation, CancellationToken cancellationToken)
    {
        if (!_multiplexer.IsConnected)
        {
            throw new RedisUnavailableException($"Redis ({_multiplexer.Configuration}) is not connected.");
        }

        try
        {
            return await operation(Database).WaitAsync(_operationTimeout, cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new RedisUnavailableException($"Redis ({_multiplexer.Configuration}) did not answer within {_operationTimeout}.", e);
        }
        catch (RedisConnectionException e)
        {
            throw new RedisUnavailableException($"Redis ({_multiplexer.Configuration}) is unreachable: {e.Message}", e);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("LOADING", StringComparison.Ordinal) || e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            throw new RedisUnavailableException($"Redis ({_multiplexer.Configuration}) is not ready: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _multiplexer.Dispose();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _multiplexer.CloseAsync(allowCommandsToComplete: false);
        _multiplexer.Dispose();
    }
}
