using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Conduit.Gateway.Authentication;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Sockets;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Gateway;

/// <summary>Socket lifetime (1008), slow consumers (1013), keep-alive, and the drain on shutdown (1001).</summary>
public sealed class GatewaySocketPolicyTests
{
    [Fact]
    public async Task Socket_PastTierLifetime_Closed1008()
    {
        await using var host = await GatewayTestHost.StartAsync(new()
        {
            ["Quotas:Tiers:short:MaxSocketLifetime"] = "00:00:00.500",
            ["Tenants:brief:Tier"] = "short",
            ["Tenants:brief:ApiKeyHashes:0"] = ApiKeyHash.ComputeHex("key-brief"),
        });
        await using var client = await host.ConnectAsync("key-brief");
        await client.SendAsync(JsonAssert.Request(1, "ping"));
        Assert.NotNull(await client.ReceiveAsync());

        Assert.Null(await client.ReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, client.Socket.CloseStatus);
    }

    [Fact]
    public async Task Socket_AtMaxInFlight_ForwardsMoreOnlyAsAnswersComeBack_AllAnswered()
    {
        await using var host = await GatewayTestHost.StartAsync(new()
        {
            ["Gateway:MaxInFlightPerSocket"] = "3",
        });
        await using var client = await host.ConnectAsync();
        for (var i = 0; i < 8; i++)
        {
            await client.SendAsync(JsonAssert.Request(i, "sleep", "{\"ms\":1000}"));
        }

        // Three are forwarded at once; the others wait in the gateway until answers free their slots.
        await Eventually.TrueAsync(() => host.Upstream.CountOf("sleep") == 3);
        Assert.Equal(3, host.Upstream.CountOf("sleep"));

        var ids = new HashSet<string>();
        for (var i = 0; i < 8; i++)
        {
            var answer = JsonAssert.Parse(await client.ReceiveAsync(TimeSpan.FromSeconds(20)));
            Assert.True(answer.TryGetProperty("result", out _), answer.ToString());
            Assert.True(ids.Add(JsonAssert.Id(answer)));
        }

        Assert.Equal(8, host.Upstream.CountOf("sleep"));
        Assert.Equal(0, host.App.Services.GetRequiredService<SessionRegistry>().Sessions.Single().InFlight);
    }

    [Fact]
    public async Task Socket_ClientThatDoesNotRead_Closed1013()
    {
        await using var host = await GatewayTestHost.StartAsync(new()
        {
            ["Gateway:SendQueueCapacity"] = "4",
        });
        var metrics = host.App.Services.GetRequiredService<GatewayMetrics>();
        await using var client = await host.ConnectAsync();
        var payload = "[\"" + new string('x', 200_000) + "\"]";

        // Answers of 200 KB each fill the TCP buffers (loopback buffers grow to several MB), then the queue of 4:
        // the gateway gives up on this client. Bounded: at most 2,000 requests or 30 s.
        var sending = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 2000 && sending.Elapsed < TimeSpan.FromSeconds(30) && Volatile.Read(ref metrics.SlowConsumers) == 0; i++)
        {
            try
            {
                await client.SendAsync(JsonAssert.Request(i, "echo", payload));
            }
            catch (WebSocketException)
            {
                break; // the gateway already closed this socket
            }
        }

        await Eventually.TrueAsync(() => Volatile.Read(ref metrics.SlowConsumers) == 1, TimeSpan.FromSeconds(20));
        try
        {
            while (await client.ReceiveAsync(TimeSpan.FromSeconds(10)) is not null)
            {
            }

            Assert.Equal((WebSocketCloseStatus)1013, client.Socket.CloseStatus);
        }
        catch (WebSocketException)
        {
            // The close frame could not be written within the close timeout: the socket was aborted instead.
        }

        await Eventually.TrueAsync(() => host.App.Services.GetRequiredService<SessionRegistry>().Count == 0);
    }

    [Fact]
    public async Task KeepAlive_ClientThatNeverAnswersPings_Dropped_ResponsiveClientKept()
    {
        await using var host = await GatewayTestHost.StartAsync(new()
        {
            // The responsive client's pong comes from this process too, which runs the other tests beside this one: 5 s lets
            // it through a slow moment (with 2 s a CI run once dropped it after 6 s; with 0.5 s it had passed 40 runs).
            ["Gateway:KeepAliveInterval"] = "00:00:00.200",
            ["Gateway:KeepAliveTimeout"] = "00:00:05",
        });
        await using var responsive = await host.ConnectAsync();

        // A client answers pings while it reads (as browsers always do): keep a receive pending.
        var responsiveAnswer = responsive.ReceiveAsync(TimeSpan.FromSeconds(30));
        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, host.BaseUri.Port);
        var stream = silent.GetStream();
        var handshake = $"GET /ws/up HTTP/1.1\r\nHost: {host.BaseUri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {GatewayTestHost.LoadKey}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));

        // Read (and ignore: never answer) until the gateway closes the TCP connection.
        var buffer = new byte[4096];
        var total = 0;
        string? head = null;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                head ??= Encoding.ASCII.GetString(buffer, 0, n);
                total += n;
            }
        }
        catch (IOException)
        {
            // Reset by the gateway: dropped as well.
        }

        Assert.StartsWith("HTTP/1.1 101", head);
        Assert.False(cts.IsCancellationRequested, "the silent client was not dropped");
        await responsive.SendAsync(JsonAssert.Request(1, "ping"));
        Assert.NotNull(await responsiveAnswer);
    }

    [Fact]
    public async Task Shutdown_InFlightAnswersDelivered_ThenClosed1001()
    {
        var host = await GatewayTestHost.StartAsync();
        try
        {
            await using var client = await host.ConnectAsync();
            await client.SendAsync(JsonAssert.Request("slow", "sleep", "{\"ms\":500}"));
            await Eventually.TrueAsync(() => host.Upstream.CountOf("sleep") == 1);

            var stopping = host.StopAsync();
            var answer = JsonAssert.Parse(await client.ReceiveAsync());
            var closed = await client.ReceiveAsync();

            Assert.Equal("\"slow\"", JsonAssert.Id(answer));
            Assert.True(answer.TryGetProperty("result", out _), answer.ToString());
            Assert.Null(closed);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.Socket.CloseStatus);
            await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
