using System.Text.Json;
using Conduit.Grains;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Pools;

public sealed class AgentGrainTests : IAsyncLifetime
{
    private PoolTestHost _host = null!;

    public async Task InitializeAsync() => _host = await PoolTestHost.StartAsync(new Dictionary<string, string?> { ["MinConnections"] = "2", ["MaxConnections"] = "3" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<IAgentGrain> OpenAgentAsync(string key, RecordingObserver? observer = null)
    {
        var agent = _host.Grains.GetGrain<IAgentGrain>(key);
        var reference = _host.Grains.CreateObjectReference<IAgentObserver>(observer ?? new RecordingObserver());
        await agent.Open(new AgentOpenRequest("main", "t1", Guid.NewGuid().ToString()), reference);
        return agent;
    }

    [Fact]
    public async Task Send_NumericAndStringIds_ComeBackUnchanged()
    {
        var agent = await OpenAgentAsync("t1/a");
        using var numeric = JsonDocument.Parse((await agent.Send("""{"jsonrpc":"2.0","id":41,"method":"echo","params":{"x":1}}"""))!);
        using var text = JsonDocument.Parse((await agent.Send("""{"jsonrpc":"2.0","id":"req-7","method":"add","params":[2,3]}"""))!);

        Assert.Equal(41, numeric.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(1, numeric.RootElement.GetProperty("result").GetProperty("x").GetInt32());
        Assert.Equal("req-7", text.RootElement.GetProperty("id").GetString());
        Assert.Equal(5, text.RootElement.GetProperty("result").GetDouble());
    }

    [Fact]
    public async Task Send_Notification_ReturnsNullAndReachesUpstream()
    {
        var agent = await OpenAgentAsync("t1/n");
        Assert.Null(await agent.Send("""{"jsonrpc":"2.0","method":"echo","params":[1]}"""));
        await Eventually.TrueAsync(() => _host.Upstream.CountOf("echo") == 1);
        Assert.True(_host.Upstream.Received.Single().IsNotification);
    }
}
