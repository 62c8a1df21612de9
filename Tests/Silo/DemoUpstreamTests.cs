using Conduit.Silo.Demo;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Conduit.Tests.Silo;

/// <summary>The built-in demo upstream of the default run, reached directly (not through the gateway).</summary>
public sealed class DemoUpstreamTests
{
    [Fact]
    public async Task MemberGivenTwice_AnsweredWithInvalidRequest_TheSharedSocketKeepsServing()
    {
        var configuration = new ConfigurationManager();
        await using var demo = await DemoUpstream.StartAsync(configuration);
        await using var client = await TestWebSocketClient.ConnectAsync(new Uri(configuration["Pools:demo:Url"]!));

        // The gateway refuses such frames, but the pool's socket is shared: whatever reaches the demo must not end it.
        await client.SendAsync("""{"jsonrpc":"2.0","id":5,"method":"echo","method":"time"}""");
        var answer = await client.ReceiveAsync();
        Assert.Contains("\"code\":-32600", answer);
        Assert.Contains("\"id\":5", answer);

        await client.SendAsync("""{"jsonrpc":"2.0","id":6,"method":"echo","params":[6]}""");
        Assert.Equal("""{"jsonrpc":"2.0","id":6,"result":[6]}""", await client.ReceiveAsync());
    }
}
