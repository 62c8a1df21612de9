using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Conduit.Runtime.Hosting;
using Conduit.Gateway.JsonRpc;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Quotas;
using Conduit.Grains;
using Conduit.Grains.Sockets;
using Microsoft.Extensions.Logging;

namespace Conduit.Gateway.Sockets;

/// <summary>
/// One client socket. The receive loop parses frames and starts a forward per message (up to
/// <see cref="GatewayOptions.MaxInFlightPerSocket"/> at once). An answer is written on the thread that produced it when
/// the socket is free and nothing waits; otherwise it goes through the bounded <see cref="SendQueue"/> to the send
/// loop, which keeps the order and also performs the close handshake. One write at a time, either way.
/// </summary>
internal sealed partial class ClientSession : IAgentObserver, IDirectSendCompletion
{
    public const int CloseNormal = 1000;
    public const int CloseGoingAway = 1001;
    public const int ClosePolicy = 1008;
    public const int CloseTooBig = 1009;
    public const int CloseInternalError = 1011;
    public const int CloseTryAgainLater = 1013;
    private const int CloseAborted = 1006;

    /// <summary>
    /// The sessions' log category, the one <c>ILogger&lt;ClientSession&gt;</c> would have: the factory hands out its
    /// cached logger for a name, where a typed logger would be one more object per socket.
    /// </summary>
    public static readonly string LogCategory = typeof(ClientSession).FullName!;

    private WebSocket? _socket; // attached at the upgrade (the session exists before it, as the agent's observer)
    private readonly IAgentGrain _agent;
    private readonly QuotaClient _quota;
    private readonly GatewayMetrics _metrics;
    private readonly PoolTraffic _pool;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly RepeatedLogs _repeated;
    private readonly ILogger _logger;
    private readonly SendQueue _queue;
    private readonly CancellationTokenSource _abort = new();
    private readonly object _closeLock = new();
    private readonly WebSocketSendGate _sendGate = new(); // one socket write at a time: a direct one or the send loop's

    // Most sockets are idle most of the time, so what a session only needs now and then is made when it is needed:
    // the receive loop's task doubles as its end signal, the run's task as the session's completion, and the two
    // waits below exist only while someone waits. The lifetime is checked by one sweep over all sessions
    // (SessionLifetimeService), not by a timer each.
    private Task? _receiving;
    private WakeSignal _slotFreed; // the receive loop waits for an in-flight slot
    private WakeSignal _inFlightDrained; // the end of the run waits for the last answers
    private long _startedAt;
    private int _lifetimeReached;
    private int _inFlight;
    private bool _closeRequested;
    private bool _closeFlush;
    private int _closeCode;
    private string _closeReason = string.Empty;
    private int _closeRecorded;
    private ITimer? _forceCloseTimer;
    private UpstreamOrder? _order; // session mode: made with the first numbered message

    public ClientSession(
        SessionInfo info,
        IAgentGrain agent,
        QuotaClient quota,
        GatewayMetrics metrics,
        GatewayOptions options,
        TimeProvider time,
        RepeatedLogs repeated,
        ILogger logger)
    {
        Info = info;
        _repeated = repeated;
        _agent = agent;
        _quota = quota;
        _metrics = metrics;
        _pool = metrics.ForPool(info.Pool);
        _options = options;
        _time = time;
        _logger = logger;
        _queue = new SendQueue(options.SendQueueCapacity, options.SendQueueMaxBytes);
    }

    public SessionInfo Info { get; }

    /// <summary>This session as the agent's observer (a grain reference); set before the agent is opened.</summary>
    public IAgentObserver? Observer { get; set; }

    /// <summary>What the agent is opened with, at the upgrade and again when it lost its binding.</summary>
    public AgentOpenRequest OpenRequest => new(Info.Pool, Info.Tenant, Info.SocketId, Info.AnonymousAgent);

    public string SocketId => Info.SocketId;

    /// <summary>Completes when the socket is closed and every loop of the session has ended (see <see cref="Start"/>).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int QueuedMessages => _queue.Count;

    /// <summary>
    /// Serves the accepted <paramref name="socket"/> until it closes; the task is <see cref="Completion"/>. The session
    /// exists before the socket, as the agent's observer, so that the agent is opened before the upgrade: what the
    /// agent sends before this call waits in the queue.
    /// </summary>
    public Task Start(WebSocket socket)
    {
        Volatile.Write(ref _startedAt, _time.GetTimestamp());
        Volatile.Write(ref _socket, socket);
        return Completion = RunAsync();
    }

    /// <summary>
    /// Closes the socket with 1008 once it has been open for its lifetime. Called by the sessions' sweep
    /// (<see cref="SessionLifetimeService"/>) with the current timestamp of the session's time provider.
    /// </summary>
    public void CheckLifetime(long now)
    {
        // Only started sessions are registered, so the start time is set.
        if (_time.GetElapsedTime(Volatile.Read(ref _startedAt), now) >= Info.Lifetime && Interlocked.Exchange(ref _lifetimeReached, 1) == 0)
        {
            Interlocked.Increment(ref _metrics.LifetimeExpired);
            RequestClose(ClosePolicy, "maximum socket lifetime reached", flush: true);
        }
    }

    private async Task RunAsync()
    {
        // The receive loop first: the send loop's close handshake waits for it to see the client's close frame.
        var receiving = ReceiveLoopAsync();
        Volatile.Write(ref _receiving, receiving);
        var sendLoop = SendLoopAsync();
        try
        {
            await receiving;
            // The client closed: answer its close frame (answers still in flight cannot be delivered any more).
            RequestClose(CloseNormal, string.Empty, flush: false);
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            LogClientGone(Info.SocketId, ex.Message);
            Abort();
        }
        catch (Exception ex)
        {
            LogSessionFailed(ex, Info.SocketId);
            Abort();
        }

        await sendLoop;
        await WaitForInFlightAsync();
        _forceCloseTimer?.Dispose();
        Volatile.Read(ref _order)?.Dispose();
        RecordClose(CloseAborted);
    }

    /// <summary>
    /// Asks the session to close with <paramref name="code"/>; with <paramref name="flush"/> after in-flight answers were
    /// sent (bounded by the drain timeout). False when an immediate close had already been asked for (nothing changed).
    /// </summary>
    public bool RequestClose(int code, string reason, bool flush)
    {
        lock (_closeLock)
        {
            if (_closeRequested)
            {
                if (flush || !_closeFlush)
                {
                    return false;
                }

                _closeFlush = false; // a flush close turns into an immediate one
            }
            else
            {
                _closeRequested = true;
                _closeCode = code;
                _closeReason = reason;
                _closeFlush = flush;
            }
        }

        if (flush)
        {
            _forceCloseTimer = _time.CreateTimer(static s => ((ClientSession)s!).OnFlushTimeout(), this, _options.DrainTimeout, Timeout.InfiniteTimeSpan);
        }
        else
        {
            // A send stuck on a client that does not read is aborted after the close timeout.
            _abort.CancelAfter(_options.CloseTimeout);
        }

        _queue.Wake();
        return true;
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        _socket?.Abort(); // not attached yet when the agent closed the session before the upgrade
        _queue.Complete();
    }

    void IAgentObserver.OnUpstreamMessage(string message, long sequence) => Order.Push(message, sequence);

    /// <summary>The socket's <see cref="UpstreamOrder"/>, made on first use.</summary>
    private UpstreamOrder Order
    {
        get
        {
            if (Volatile.Read(ref _order) is { } order)
            {
                return order;
            }

            var made = new UpstreamOrder(Enqueue, () => Volatile.Read(ref _inFlight) > 0, _time);
            return Interlocked.CompareExchange(ref _order, made, null) ?? made;
        }
    }

    void IAgentObserver.OnClosed(int closeCode, string reason) => RequestClose(closeCode, reason, flush: true);

    /// <summary>The attached socket; the loops run only after <see cref="Start"/>.</summary>
    private WebSocket Socket => _socket ?? throw new InvalidOperationException("The session's socket is not attached yet.");

    /// <summary>Whether the receive loop has ended: the client closed or the socket failed.</summary>
    private bool ReceiveEnded => Volatile.Read(ref _receiving) is { IsCompleted: true };

    private bool IsClosing
    {
        get { lock (_closeLock) { return _closeRequested; } }
    }

    private static bool IsSocketFailure(Exception ex)
        => ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException
            or Microsoft.AspNetCore.Connections.ConnectionResetException or Microsoft.AspNetCore.Connections.ConnectionAbortedException;
}
