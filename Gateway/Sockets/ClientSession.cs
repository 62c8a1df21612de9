using System.Buffers;
using System.Net.WebSockets;
using System.Text;
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
internal sealed partial class ClientSession : IAgentObserver
{
    public const int CloseNormal = 1000;
    public const int CloseGoingAway = 1001;
    public const int ClosePolicy = 1008;
    public const int CloseTooBig = 1009;
    public const int CloseInternalError = 1011;
    public const int CloseTryAgainLater = 1013;
    private const int CloseAborted = 1006;

    private WebSocket? _socket; // attached at the upgrade (the session exists before it, as the agent's observer)
    private readonly IAgentGrain _agent;
    private readonly QuotaClient _quota;
    private readonly GatewayMetrics _metrics;
    private readonly PoolTraffic _pool;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SendQueue _queue;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _receiveEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _inFlightZero = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _closeLock = new();
    private readonly WebSocketSendGate _sendGate = new(); // one socket write at a time: a direct one or the send loop's
    private readonly Action<Exception?> _onSendCompleted;
    private int _inFlight;
    private bool _closeRequested;
    private bool _closeFlush;
    private int _closeCode;
    private string _closeReason = string.Empty;
    private int _closeRecorded;
    private ITimer? _forceCloseTimer;

    public ClientSession(
        SessionInfo info,
        IAgentGrain agent,
        QuotaClient quota,
        GatewayMetrics metrics,
        GatewayOptions options,
        TimeProvider time,
        ILogger logger)
    {
        Info = info;
        _agent = agent;
        _quota = quota;
        _metrics = metrics;
        _pool = metrics.ForPool(info.Pool);
        _options = options;
        _time = time;
        _logger = logger;
        _queue = new SendQueue(options.SendQueueCapacity, options.SendQueueMaxBytes);
        _slots = new SemaphoreSlim(options.MaxInFlightPerSocket, options.MaxInFlightPerSocket);
        _onSendCompleted = OnSendCompleted;
    }

    public SessionInfo Info { get; }

    /// <summary>This session as the agent's observer (a grain reference); set before the agent is opened.</summary>
    public IAgentObserver? Observer { get; set; }

    /// <summary>What the agent is opened with, at the upgrade and again when it lost its binding.</summary>
    public AgentOpenRequest OpenRequest => new(Info.Pool, Info.Tenant, Info.SocketId);

    public string SocketId => Info.SocketId;

    /// <summary>Completes when the socket is closed and every loop of the session has ended.</summary>
    public Task Completion => _done.Task;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int QueuedMessages => _queue.Count;

    /// <summary>The accepted socket (the session exists before it, as the agent's observer, so the agent is opened before the upgrade).</summary>
    public void Attach(WebSocket socket) => Volatile.Write(ref _socket, socket);

    /// <summary>Serves the socket (see <see cref="Attach"/>) until it closes.</summary>
    public async Task RunAsync()
    {
        using var lifetime = _time.CreateTimer(static s => ((ClientSession)s!).OnLifetimeReached(), this, Info.Lifetime, Timeout.InfiniteTimeSpan);
        var sendLoop = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync();
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
        finally
        {
            _receiveEnded.TrySetResult();
        }

        await sendLoop;
        await WaitForInFlightAsync();
        _forceCloseTimer?.Dispose();
        RecordClose(CloseAborted);
        _done.TrySetResult();
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

    void IAgentObserver.OnUpstreamMessage(string message) => Enqueue(message);

    void IAgentObserver.OnClosed(int closeCode, string reason) => RequestClose(closeCode, reason, flush: true);

    /// <summary>The attached socket; the loops run only after <see cref="Attach"/>.</summary>
    private WebSocket Socket => _socket ?? throw new InvalidOperationException("The session's socket is not attached yet.");

    private bool IsClosing
    {
        get { lock (_closeLock) { return _closeRequested; } }
    }

    private static bool IsSocketFailure(Exception ex)
        => ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException
            or Microsoft.AspNetCore.Connections.ConnectionResetException or Microsoft.AspNetCore.Connections.ConnectionAbortedException;
}
