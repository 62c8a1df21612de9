using System.Collections.Concurrent;

namespace Conduit.Runtime.Cluster;

/// <summary>One <see cref="RedisConnection"/> per (connection string, cluster id) in a process's services; disposed with them.</summary>
internal sealed class RedisConnectionPool : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<(string, string), Lazy<Task<RedisConnection>>> _connections = new();

    /// <summary>The connection (connecting on first use).</summary>
    public Task<RedisConnection> GetAsync(string connectionString, string clusterId, TimeSpan operationTimeout)
        => _connections.GetOrAdd((connectionString, clusterId), key => new Lazy<Task<RedisConnection>>(
            () => RedisConnection.ConnectAsync(key.Item1, key.Item2, operationTimeout))).Value;

    public void Dispose()
    {
        foreach (var lazy in _connections.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                lazy.Value.Result.Dispose();
            }
        }

        _connections.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _connections.Values)
        {
            if (lazy.IsValueCreated)
            {
                try
                {
                    await (await lazy.Value).DisposeAsync();
                }
                catch (Exception)
                {
                    // It never connected.
                }
            }
        }

        _connections.Clear();
    }
}
