using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Conduit.Benchmarks.Harness;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Benchmarks.Gateway;

/// <summary>
/// The floor for any WebSocket proxy on this machine: a Kestrel process that relays each client message to its own
/// upstream socket and each upstream message back, with nothing else (no JSON, no grains, no quotas, no
/// multiplexing). It does the same socket work per request as the gateway (a receive and a send on each side), so
/// its ratio to the direct path shows what the hardware allows a proxy sharing these cores with the load generator
/// and the upstream, and the gateway's ratio to it shows the gateway's own cost.
/// </summary>
internal sealed class BareRelay : IAsyncDisposable
{
    /// <summary>The first argument that makes the benchmark executable run as the relay's child process.</summary>
    public const string ChildCommand = "bare-relay-child";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly Process _process;

    private BareRelay(Process process, int port)
    {
        _process = process;
        SocketUri = new Uri($"ws://127.0.0.1:{port}/relay");
    }

    public Uri SocketUri { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts the relay as a child process of this benchmark, in front of <paramref name="upstream"/> (on <paramref name="cpus"/> only, when given).</summary>
    public static async Task<BareRelay> StartAsync(Uri upstream, string? cpus = null)
    {
        var port = ServerAddress.FreeLoopbackPort();
        var start = SelfProcess.StartInfo([ChildCommand, upstream.ToString(), port.ToString(System.Globalization.CultureInfo.InvariantCulture)], cpus);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException("The bare relay did not start.");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Kill(process);
        var relay = new BareRelay(process, port);
        var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready != "ready")
        {
            var error = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5));
            await relay.DisposeAsync();
            throw new InvalidOperationException($"The bare relay did not start: {ready} {error}");
        }

        // Whatever the child writes from now on is read and dropped, so that a full pipe can never block it.
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        return relay;
    }

    /// <summary>The child process's main: serves ws://127.0.0.1:{port}/relay until killed.</summary>
    public static async Task<int> RunChildAsync(string[] args)
    {
        if (args.Length != 3 || !Uri.TryCreate(args[1], UriKind.Absolute, out var upstream) || !int.TryParse(args[2], out var port))
        {
            Console.Error.WriteLine($"usage: {ChildCommand} <upstream ws url> <port>");
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        // Logs go to stderr whatever the configuration found in the working directory says: stdout carries "ready" only.
        builder.Logging.ClearProviders().AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.MapGet("/counters", ProcessCounters.Current);
        app.Map("/relay", async context =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            using var outbound = new ClientWebSocket();
            outbound.Options.KeepAliveInterval = TimeSpan.Zero;
            await outbound.ConnectAsync(upstream, context.RequestAborted);
            using var inbound = await context.WebSockets.AcceptWebSocketAsync();
            var toUpstream = PumpAsync(inbound, outbound);
            var toClient = PumpAsync(outbound, inbound);
            await Task.WhenAny(toUpstream, toClient);
            inbound.Abort();
            outbound.Abort();
            await Task.WhenAll(toUpstream, toClient);
        });
        await app.StartAsync();
        Console.WriteLine("ready");
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>The relay process's CPU time, thread-pool work items, allocations and GC pauses so far (it reports them itself).</summary>
    public async Task<ProcessCounters> CountersAsync()
        => await Http.GetFromJsonAsync<ProcessCounters>($"http://127.0.0.1:{SocketUri.Port}/counters");

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    /// <summary>Copies whole messages from one socket to the other until either side closes or fails.</summary>
    private static async Task PumpAsync(WebSocket from, WebSocket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await from.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && length < buffer.Length);

                if (result.MessageType == WebSocketMessageType.Close || !result.EndOfMessage)
                {
                    return; // closed, or a message larger than the benchmark ever sends
                }

                await to.SendAsync(buffer.AsMemory(0, length), result.MessageType, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The other pump aborted the sockets, or a side went away.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
