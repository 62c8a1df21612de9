using Conduit.Runtime.Cluster;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// One redis-server for a test class (xunit class fixture). Tests isolate themselves by using a fresh
/// cluster id (key prefix) from <see cref="ConnectAsync"/>.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private readonly List<RedisConnection> _connections = [];
    private RedisServer? _server;

    /// <summary>The server.</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("Fixture not initialized.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await RedisServer.StartNewAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A connection with a cluster id of its own (or the given one); closed with the fixture.</summary>
    internal async Task<RedisConnection> ConnectAsync(string? clusterId = null)
    {
        var connection = await RedisConnection.ConnectAsync(Server.ConnectionString, clusterId ?? "t" + Guid.NewGuid().ToString("N")[..12], TimeSpan.FromSeconds(5));
        lock (_connections) { _connections.Add(connection); }
        return connection;
    }
}
