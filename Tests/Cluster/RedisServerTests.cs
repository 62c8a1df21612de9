using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Cluster;

public sealed class RedisServerTests
{
    [Fact]
    public async Task StartAsync_Persistent_KeepsDataAcrossRestart()
    {
        await using var server = await RedisServer.StartNewAsync(persistent: true);
        Assert.Equal("+OK", await server.CommandAsync("SET k v1"));

        await server.StopAsync();
        Assert.False(server.IsRunning);
        await server.StartAsync(keepData: true);

        Assert.Equal("$2", await server.CommandAsync("GET k"));
    }

    [Fact]
    public async Task StartAsync_WithoutData_StartsEmptyOnSamePort()
    {
        await using var server = await RedisServer.StartNewAsync(persistent: true);
        var port = server.Port;
        await server.CommandAsync("SET k v1");

        await server.StopAsync();
        await server.StartAsync(keepData: false);

        Assert.Equal(port, server.Port);
        Assert.Equal("$-1", await server.CommandAsync("GET k"));
    }

    [Fact]
    public async Task DisposeAsync_Running_KillsTheProcess()
    {
        var server = await RedisServer.StartNewAsync();
        var port = server.Port;

        await server.DisposeAsync();

        Assert.False(server.IsRunning);
        await Assert.ThrowsAnyAsync<Exception>(() => server.CommandAsync("PING"));
        using var probe = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync("127.0.0.1", port));
    }
}
