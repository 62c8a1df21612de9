using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// A real JSON-RPC 2.0 WebSocket server (Kestrel on 127.0.0.1, port 0) to stand in for an upstream.
/// Methods: <c>echo</c> (result = params), <c>add</c> (sum of a number array), <c>error</c> (error
/// -32000 with params as data), <c>sleep</c> ({"ms":n}, then null), <c>ping</c> ("pong", the health
/// probe), <c>notify_me</c> ({"count":n}: answers "ok", then pushes n <c>notify</c> notifications on
/// the same socket), <c>subscribe</c> ({"count":n,"intervalMs":m}: answers a subscription id, then
/// pushes n <c>subscription</c> notifications); any other method gets -32601. Batches and
/// notifications work as JSON-RPC says. It counts sockets and messages and injects the faults of
/// <see cref="Faults"/> at run time.
/// </summary>
public sealed class UpstreamServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<int, UpstreamSession> _sessions = new();
    private readonly ConcurrentQueue<UpstreamRequest> _received = new();
    private readonly ConcurrentDictionary<string, int> _methodCounts = new(StringComparer.Ordinal);
    private readonly bool _keepMessages;
    private int _acceptedSockets;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string?> _subProtocols = new();
    private int _refusedConnections;
    private int _handshakes;
    private int _subscriptions;

    private UpstreamServer(WebApplication app, Uri url, bool keepMessages)
    {
        _app = app;
        Url = url;
        _keepMessages = keepMessages;
    }

    /// <summary>The method name under which responses from the client (to requests pushed with <see cref="PushAsync"/>) are recorded.</summary>
    public const string ResponseMethod = "(response)";

    /// <summary>The server's WebSocket URL, e.g. <c>ws://127.0.0.1:41234/</c>.</summary>
    public Uri Url { get; private set; }

    /// <summary>The faults to inject; change them at any time.</summary>
    public UpstreamFaults Faults { get; } = new();

    /// <summary>WebSocket connections accepted so far.</summary>
    public int AcceptedSockets => Volatile.Read(ref _acceptedSockets);

    /// <summary>The subprotocol each accepted socket asked for and got (null for none), in the order they were accepted.</summary>
    public IReadOnlyCollection<string?> SubProtocols => _subProtocols;

    /// <summary>Connection attempts refused with 503 so far.</summary>
    public int RefusedConnections => Volatile.Read(ref _refusedConnections);

    /// <summary>HTTP upgrade requests seen so far (accepted, refused or still in their handshake delay).</summary>
    public int HandshakeAttempts => Volatile.Read(ref _handshakes);

    /// <summary>WebSockets open right now.</summary>
    public int OpenSockets => _sessions.Count;

    /// <summary>Every JSON-RPC message received so far, in arrival order (only for a server that keeps them).</summary>
    public IReadOnlyList<UpstreamRequest> Received => KeptMessages.ToArray();

    /// <summary>Requests and notifications received so far (every one is counted under its method).</summary>
    public int TotalReceived => _methodCounts.Values.Sum();

    private ConcurrentQueue<UpstreamRequest> KeptMessages => _keepMessages
        ? _received
        : throw new InvalidOperationException("This upstream was started with keepMessages: false; it counts messages but does not keep them.");

    /// <summary>
    /// Starts a server on a free loopback port. With <paramref name="keepMessages"/> false it counts messages (per method
    /// and in all) but keeps none, for load that would otherwise fill the process's memory (benchmarks: millions of
    /// requests).
    /// </summary>
    public static async Task<UpstreamServer> StartAsync(bool keepMessages = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        var server = new UpstreamServer(app, new Uri("ws://127.0.0.1/"), keepMessages);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var port = ServerAddress.Of(app).Port;
        server.Url = new Uri($"ws://127.0.0.1:{port}/");
        return server;
    }

    /// <summary>How many messages (requests and notifications) named <paramref name="method"/> arrived.</summary>
    public int CountOf(string method) => _methodCounts.TryGetValue(method, out var n) ? n : 0;

    /// <summary>How many messages arrived with the raw JSON id <paramref name="idJson"/> (e.g. <c>7</c> or <c>"a"</c>).</summary>
    public int CountOfId(string idJson) => KeptMessages.Count(r => r.IdJson == idJson);

    /// <summary>Forgets the counts of messages (socket counts stay).</summary>
    public void ResetCounters()
    {
        _received.Clear();
        _methodCounts.Clear();
    }

    /// <summary>Aborts every open socket at once (no close handshake), as a crashing upstream would.</summary>
    public void AbortAll()
    {
        foreach (var session in _sessions.Values)
        {
            session.Abort();
        }
    }

    /// <summary>Closes every open socket with a normal close handshake.</summary>
    public async Task CloseAllAsync()
    {
        await Task.WhenAll(_sessions.Values.Select(s => s.CloseAsync()));
    }

    /// <summary>Sends <paramref name="message"/> as is on every open socket; returns how many got it.</summary>
    public async Task<int> PushAsync(string message)
    {
        var sessions = _sessions.Values.ToArray();
        await Task.WhenAll(sessions.Select(s => s.SendAsync(message)));
        return sessions.Length;
    }

    /// <summary>Stops the server and aborts its sockets.</summary>
    public async ValueTask DisposeAsync()
    {
        AbortAll();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping was cut short; the sockets are aborted already.
        }

        await _app.DisposeAsync();
    }

    internal void Record(UpstreamRequest request)
    {
        if (_keepMessages)
        {
            _received.Enqueue(request);
        }

        _methodCounts.AddOrUpdate(request.Method, 1, static (_, n) => n + 1);
    }

    internal string NextSubscriptionId() => $"sub-{Interlocked.Increment(ref _subscriptions)}";

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        Interlocked.Increment(ref _handshakes);
        var handshakeDelay = Faults.HandshakeDelay;
        if (handshakeDelay > TimeSpan.Zero)
        {
            await Task.Delay(handshakeDelay, context.RequestAborted);
        }

        if (Faults.RefuseConnections)
        {
            Interlocked.Increment(ref _refusedConnections);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        // Like a server that speaks whatever subprotocol it is asked for (an MCP server selects "mcp").
        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault();
        using var socket = await context.WebSockets.AcceptWebSocketAsync(subProtocol);
        _subProtocols.Enqueue(subProtocol);
        var number = Interlocked.Increment(ref _acceptedSockets);
        var session = new UpstreamSession(this, number, socket, context);
        _sessions[number] = session;
        try
        {
            await session.RunAsync();
        }
        finally
        {
            session.End();
            _sessions.TryRemove(number, out _);
        }
    }
}
