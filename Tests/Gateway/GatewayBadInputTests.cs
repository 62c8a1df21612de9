using System.Net.WebSockets;
using System.Text;
using Conduit.Gateway.Sockets;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Gateway;

/// <summary>Bad input gets its specified answer while another client keeps being served.</summary>
public sealed class GatewayBadInputTests : IAsyncLifetime
{
    private GatewayTestHost _host = null!;
    private TestWebSocketClient _bystander = null!;
    private int _bystanderId;

    public async Task InitializeAsync()
    {
        _host = await GatewayTestHost.StartAsync();
        _bystander = await _host.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _bystander.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Frame_InvalidJson_ParseErrorAndSocketStaysOpen()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("{\"jsonrpc\":\"2.0\",\"id\":1,");
        var answer = JsonAssert.Parse(await client.ReceiveAsync());

        Assert.Equal(-32700, JsonAssert.ErrorCode(answer));
        Assert.Equal("null", JsonAssert.Id(answer));
        await AssertServedAsync(client);
        await AssertBystanderServedAsync();
    }

    [Fact]
    public async Task Frame_JsonButNotJsonRpc_InvalidRequest()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAsync("""{"hello":"world","id":5}""");
        var answer = JsonAssert.Parse(await client.ReceiveAsync());

        Assert.Equal(-32600, JsonAssert.ErrorCode(answer));
        Assert.Equal("5", JsonAssert.Id(answer));
        await client.SendAsync("[]");
        Assert.Equal(-32600, JsonAssert.ErrorCode(JsonAssert.Parse(await client.ReceiveAsync())));

        // A member given twice: which id would be rewritten and answered, which method run? Refused, never forwarded.
        var forwarded = _host.Upstream.TotalReceived;
        await client.SendAsync("""{"jsonrpc":"2.0","id":7,"method":"echo","id":8}""");
        var twice = JsonAssert.Parse(await client.ReceiveAsync());
        Assert.Equal(-32600, JsonAssert.ErrorCode(twice));
        Assert.Equal("null", JsonAssert.Id(twice));
        Assert.Equal(forwarded, _host.Upstream.TotalReceived);
        await AssertServedAsync(client);
        await AssertBystanderServedAsync();
    }

    [Fact]
    public async Task Frame_Binary_InvalidRequestAndSocketStaysOpen()
    {
        await using var client = await _host.ConnectAsync();

        await client.Socket.SendAsync(Encoding.UTF8.GetBytes(JsonAssert.Request(1, "ping")), WebSocketMessageType.Binary, true, CancellationToken.None);
        var answer = JsonAssert.Parse(await client.ReceiveAsync());

        Assert.Equal(-32600, JsonAssert.ErrorCode(answer));
        await AssertServedAsync(client);
        await AssertBystanderServedAsync();
    }

    [Fact]
    public async Task Frame_TwoMiB_Closed1009()
    {
        await using var client = await _host.ConnectAsync();
        var big = JsonAssert.Request(1, "echo", "[\"" + new string('x', 2 * 1024 * 1024) + "\"]");

        try
        {
            await client.SendAsync(big);
        }
        catch (WebSocketException)
        {
            // The gateway may close before the whole frame is written.
        }

        Assert.Null(await client.ReceiveAsync());
        Assert.Equal((WebSocketCloseStatus)1009, client.Socket.CloseStatus);
        await AssertBystanderServedAsync();
    }

    [Fact]
    public async Task Requests_TenThousandPipelinedOnOneSocket_AllAnsweredWithTheirIds()
    {
        const int count = 10_000;
        await using var client = await _host.ConnectAsync();
        var seen = new bool[count];
        var receiver = Task.Run(async () =>
        {
            for (var received = 0; received < count; received++)
            {
                var answer = JsonAssert.Parse(await client.ReceiveAsync(TimeSpan.FromSeconds(30)));
                var id = answer.GetProperty("id").GetInt32();
                Assert.Equal(id, answer.GetProperty("result")[0].GetInt32());
                Assert.False(seen[id], $"id {id} answered twice");
                seen[id] = true;
            }
        });

        for (var i = 0; i < count; i++)
        {
            await client.SendAsync(JsonAssert.Request(i, "echo", $"[{i}]"));
        }

        await receiver.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(seen, Assert.True);

        // Messages pass on local tokens: the quota grain was asked once per slice of 50, not once per message.
        var usage = (await _host.Grains.GetGrain<Conduit.Grains.IQuotaGrain>(Conduit.Grains.QuotaGrainKeys.Global).GetUsage()).Single(u => u.Tenant == "load");
        Assert.InRange(usage.BudgetRequests, 1, (count / 50) + 20);
        await AssertBystanderServedAsync();
    }

    [Fact]
    public async Task Client_VanishesMidRequest_SessionCleanedUpOthersServed()
    {
        var registry = _host.App.Services.GetRequiredService<SessionRegistry>();
        var client = await _host.ConnectAsync();
        await Eventually.TrueAsync(() => registry.Count == 2);

        await client.SendAsync(JsonAssert.Request(1, "sleep", "{\"ms\":300}"));
        await Eventually.TrueAsync(() => _host.Upstream.CountOf("sleep") == 1);
        await client.DisposeAsync(); // abort: no close handshake

        await Eventually.TrueAsync(() => registry.Count == 1, because: "the vanished client's session was not cleaned up");
        await AssertBystanderServedAsync();
    }

    [Fact]
    public async Task Fuzz_ThousandsOfRandomFrames_GatewayKeepsServing()
    {
        var random = new Random(20261123);
        var sent = 0;
        var closedByGateway = 0;
        while (sent < 3000)
        {
            await using var client = await _host.ConnectAsync();
            var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var reader = DrainAsync(client, received);
            try
            {
                for (var i = 0; i < 500 && sent < 3000; i++, sent++)
                {
                    var (bytes, type) = RandomFrame(random);
                    await client.Socket.SendAsync(bytes, type, true, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
                }

                await AssertServedAsync(client, received, reader);
            }
            catch (WebSocketException)
            {
                closedByGateway++; // e.g. invalid UTF-8 in a text frame: the WebSocket layer closes with 1007
            }
        }

        Assert.True(closedByGateway < 6, $"{closedByGateway} fuzz sockets were closed");
        await using var fresh = await _host.ConnectAsync();
        await AssertServedAsync(fresh);
        await AssertBystanderServedAsync();
    }

    private static (byte[] Bytes, WebSocketMessageType Type) RandomFrame(Random random)
    {
        string[] seeds =
        [
            """{"jsonrpc":"2.0","id":1,"method":"echo","params":[1,"a",{"b":null}]}""",
            """[{"jsonrpc":"2.0","id":"x","method":"add","params":[1,2]},{"jsonrpc":"2.0","method":"echo"}]""",
            """{"jsonrpc":"2.0","method":"notify","params":{}}""",
        ];
        switch (random.Next(6))
        {
            case 0:
            {
                var bytes = new byte[random.Next(0, 300)];
                random.NextBytes(bytes);
                return (bytes, WebSocketMessageType.Binary);
            }

            case 1:
            {
                var chars = new char[random.Next(0, 300)];
                for (var i = 0; i < chars.Length; i++)
                {
                    chars[i] = (char)random.Next(32, 0x2FF);
                }

                return (Encoding.UTF8.GetBytes(chars), WebSocketMessageType.Text);
            }

            case 2:
            {
                var depth = random.Next(1, 150);
                return (Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', random.Next(0, depth + 1))), WebSocketMessageType.Text);
            }

            default:
            {
                // Mutations of valid messages: delete, duplicate or replace characters.
                var text = new StringBuilder(seeds[random.Next(seeds.Length)]);
                for (var m = random.Next(0, 4); m > 0 && text.Length > 0; m--)
                {
                    var at = random.Next(text.Length);
                    switch (random.Next(3))
                    {
                        case 0: text.Remove(at, 1); break;
                        case 1: text.Insert(at, text[at]); break;
                        default: text[at] = "{}[]\",:0123456789abcnull-. "[random.Next(27)]; break;
                    }
                }

                return (Encoding.UTF8.GetBytes(text.ToString()), WebSocketMessageType.Text);
            }
        }
    }

    private static Task DrainAsync(TestWebSocketClient client, System.Collections.Concurrent.ConcurrentQueue<string> received) => Task.Run(async () =>
    {
        try
        {
            while (await client.ReceiveAsync(TimeSpan.FromSeconds(30)) is { } message)
            {
                received.Enqueue(message);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
    });

    private static async Task AssertServedAsync(TestWebSocketClient client, System.Collections.Concurrent.ConcurrentQueue<string>? received = null, Task? reader = null)
    {
        var id = "probe-" + Guid.NewGuid().ToString("N");
        await client.SendAsync(JsonAssert.Request(id, "ping"));
        if (received is null || reader is null)
        {
            Assert.Equal($"\"{id}\"", JsonAssert.Id(JsonAssert.Parse(await client.ReceiveAsync())));
            return;
        }

        // A reader is draining the socket: wait until it has seen the probe's answer.
        await Eventually.TrueAsync(() => reader.IsCompleted || received.Any(m => m.Contains(id, StringComparison.Ordinal)), TimeSpan.FromSeconds(20));
        Assert.Contains(received, m => m.Contains(id, StringComparison.Ordinal));
    }

    private async Task AssertBystanderServedAsync()
    {
        var id = Interlocked.Increment(ref _bystanderId);
        await _bystander.SendAsync(JsonAssert.Request(id, "ping"));
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), JsonAssert.Id(JsonAssert.Parse(await _bystander.ReceiveAsync())));
    }
}
