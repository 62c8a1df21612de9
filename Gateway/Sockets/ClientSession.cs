using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Conduit.Gateway.JsonRpc;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Quotas;
using Conduit.Grains;
using Microsoft.Extensions.Logging;

namespace Conduit.Gateway.Sockets;

/// <summary>
/// One client socket. The receive loop parses frames and starts a forward per message (up to
/// <see cref="GatewayOptions.MaxInFlightPerSocket"/> at once); answers go through the bounded <see cref="SendQueue"/>
/// to the send loop, the only writer of the socket, which also performs the close handshake.
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

    private readonly WebSocket _socket;
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
    private int _inFlight;
    private bool _closeRequested;
    private bool _closeFlush;
    private int _closeCode;
    private string _closeReason = string.Empty;
    private int _closeRecorded;
    private ITimer? _forceCloseTimer;

    public ClientSession(
        WebSocket socket,
        SessionInfo info,
        IAgentGrain agent,
        QuotaClient quota,
        GatewayMetrics metrics,
        GatewayOptions options,
        TimeProvider time,
        ILogger logger)
    {
        _socket = socket;
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
    }

    public SessionInfo Info { get; }

    public string SocketId => Info.SocketId;

    /// <summary>Completes when the socket is closed and every loop of the session has ended.</summary>
    public Task Completion => _done.Task;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int QueuedMessages => _queue.Count;

    /// <summary>Serves the socket until it closes.</summary>
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

    /// <summary>Asks the session to close with <paramref name="code"/>; with <paramref name="flush"/> after in-flight answers were sent (bounded by the drain timeout).</summary>
    public void RequestClose(int code, string reason, bool flush)
    {
        lock (_closeLock)
        {
            if (_closeRequested)
            {
                if (flush || !_closeFlush)
                {
                    return;
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

        _socket.Abort();
        _queue.Complete();
    }

    void IAgentObserver.OnUpstreamMessage(string message) => Enqueue(message);

    void IAgentObserver.OnClosed(int closeCode, string reason) => RequestClose(closeCode, reason, flush: true);

    private bool IsClosing
    {
        get { lock (_closeLock) { return _closeRequested; } }
    }

    private static bool IsSocketFailure(Exception ex)
        => ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException
            or Microsoft.AspNetCore.Connections.ConnectionResetException or Microsoft.AspNetCore.Connections.ConnectionAbortedException;

    private async Task ReceiveLoopAsync()
    {
        while (true)
        {
            // A zero-byte read waits for the next frame without holding a buffer, so idle sockets cost little memory.
            var first = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(first.EndOfMessage ? 1 : 4096);
            try
            {
                var length = 0;
                var last = first;
                var tooBig = false;
                while (!last.EndOfMessage)
                {
                    if (length == buffer.Length)
                    {
                        if (length > _options.MaxMessageBytes)
                        {
                            tooBig = true;
                            break;
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxMessageBytes + 1));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    last = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    if (last.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    length += last.Count;
                    if (length > _options.MaxMessageBytes)
                    {
                        tooBig = true;
                        break;
                    }
                }

                if (tooBig)
                {
                    Interlocked.Increment(ref _metrics.OversizedMessages);
                    LogTooBig(Info.SocketId, _options.MaxMessageBytes);
                    RequestClose(CloseTooBig, $"message larger than {_options.MaxMessageBytes} bytes", flush: false);
                    await DiscardUntilCloseAsync();
                    return;
                }

                await OnMessageAsync(first.MessageType, buffer.AsMemory(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task DiscardUntilCloseAsync()
    {
        var scratch = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while ((await _socket.ReceiveAsync(scratch.AsMemory(), CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async Task OnMessageAsync(WebSocketMessageType type, ReadOnlyMemory<byte> message)
    {
        if (type == WebSocketMessageType.Binary)
        {
            Interlocked.Increment(ref _metrics.InvalidRequests);
            Enqueue(JsonRpcErrors.Create("null", JsonRpcErrorCodes.InvalidRequest, "Invalid Request: binary frames are not supported, send JSON-RPC in text frames"));
            return;
        }

        var frame = JsonRpcFrameParser.Parse(message);
        var batch = frame.IsBatch ? new BatchResponse(frame.Items.Length) : null;
        Interlocked.Add(ref _pool.MessagesReceived, frame.Items.Length);
        for (var i = 0; i < frame.Items.Length; i++)
        {
            var item = frame.Items[i];
            if (item.ErrorResponse is { } error)
            {
                Interlocked.Increment(ref error.Contains("-32700", StringComparison.Ordinal) ? ref _metrics.ParseErrors : ref _metrics.InvalidRequests);
                Deliver(batch, i, error);
                continue;
            }

            if (IsClosing)
            {
                Deliver(batch, i, item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.InternalError, "The gateway is closing this socket; send the request on a new connection"));
                continue;
            }

            var retryAfterMs = await _quota.TryTakeMessageAsync(Info.Tenant);
            if (retryAfterMs > 0)
            {
                Interlocked.Increment(ref _metrics.RateLimited);
                Deliver(batch, i, item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.RateLimited, "Rate limited", ("retryAfterMs", retryAfterMs)));
                continue;
            }

            await _slots.WaitAsync();
            Interlocked.Increment(ref _inFlight);
            Interlocked.Increment(ref _pool.InFlight);
            Interlocked.Increment(ref _metrics.InFlight);
            _ = ForwardAsync(item, batch, i, _time.GetTimestamp());
        }
    }

    private async Task ForwardAsync(JsonRpcItem item, BatchResponse? batch, int index, long started)
    {
        string? answer;
        try
        {
            answer = await _agent.Send(item.Message!);
        }
        catch (TimeoutException)
        {
            Interlocked.Increment(ref _pool.RequestErrors);
            var waited = (long)_time.GetElapsedTime(started).TotalMilliseconds;
            answer = item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.RequestTimeout, "Request timed out", ("timeoutMs", waited));
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _pool.RequestErrors);
            LogForwardFailed(ex, Info.SocketId, Info.Pool);
            answer = item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.InternalError, "Internal error");
        }

        _metrics.RequestDuration(_time.GetElapsedTime(started));
        Interlocked.Increment(ref _pool.RequestsCompleted);
        Deliver(batch, index, answer);
        Interlocked.Decrement(ref _metrics.InFlight);
        Interlocked.Decrement(ref _pool.InFlight);
        _slots.Release();
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            if (IsClosing)
            {
                _queue.Wake();
            }

            if (_receiveEnded.Task.IsCompleted)
            {
                _inFlightZero.TrySetResult();
            }
        }
    }

    private void Deliver(BatchResponse? batch, int index, string? answer)
    {
        if (batch is null)
        {
            if (answer is not null)
            {
                Enqueue(answer);
            }

            return;
        }

        if (batch.Complete(index, answer, out _) is { } joined)
        {
            Enqueue(joined);
        }
    }

    private void Enqueue(string message)
    {
        if (_queue.TryEnqueue(Encoding.UTF8.GetBytes(message)))
        {
            Interlocked.Increment(ref _metrics.QueuedMessages);
            return;
        }

        if (_abort.IsCancellationRequested || _receiveEnded.Task.IsCompleted)
        {
            return; // the socket is gone; the answer has nowhere to go
        }

        lock (_closeLock)
        {
            if (_closeRequested && !_closeFlush)
            {
                return;
            }
        }

        Interlocked.Increment(ref _metrics.SlowConsumers);
        LogSlowConsumer(Info.SocketId, _queue.Count, _queue.Bytes);
        RequestClose(CloseTryAgainLater, "slow consumer: send queue full", flush: false);
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (await _queue.WaitToReadAsync())
            {
                while (_queue.TryDequeue(out var message))
                {
                    if (message is not null)
                    {
                        Interlocked.Decrement(ref _metrics.QueuedMessages);
                        if (!DropsQueuedMessages())
                        {
                            await _socket.SendAsync(message.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, _abort.Token);
                            Interlocked.Increment(ref _metrics.FramesSent);
                        }
                    }

                    if (ShouldCloseNow())
                    {
                        await CloseAsync();
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            Abort();
        }
        finally
        {
            _queue.Complete();
            while (_queue.TryDequeue(out var left))
            {
                if (left is not null)
                {
                    Interlocked.Decrement(ref _metrics.QueuedMessages);
                }
            }
        }
    }

    private bool DropsQueuedMessages()
    {
        lock (_closeLock)
        {
            return _closeRequested && !_closeFlush;
        }
    }

    private bool ShouldCloseNow()
    {
        lock (_closeLock)
        {
            return _closeRequested && (!_closeFlush || (_queue.Count == 0 && Volatile.Read(ref _inFlight) == 0));
        }
    }

    private async Task CloseAsync()
    {
        int code;
        string reason;
        lock (_closeLock)
        {
            code = _closeCode;
            reason = _closeReason;
        }

        RecordClose(code);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            timeout.CancelAfter(_options.CloseTimeout);
            await _socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            Abort();
            return;
        }

        try
        {
            // The client answers with its own close frame, which ends the receive loop.
            await _receiveEnded.Task.WaitAsync(_options.CloseTimeout, _time);
        }
        catch (TimeoutException)
        {
            Abort();
        }
    }

    private void RecordClose(int code)
    {
        if (Interlocked.Exchange(ref _closeRecorded, 1) == 0)
        {
            _metrics.Closed(code);
        }
    }

    private async Task WaitForInFlightAsync()
    {
        if (Volatile.Read(ref _inFlight) == 0)
        {
            return;
        }

        try
        {
            // Answers of a socket that is gone only need to finish, not to be sent.
            await _inFlightZero.Task.WaitAsync(_options.DrainTimeout, _time);
        }
        catch (TimeoutException)
        {
            LogInFlightAbandoned(Info.SocketId, Volatile.Read(ref _inFlight));
        }
    }

    private void OnLifetimeReached()
    {
        Interlocked.Increment(ref _metrics.LifetimeExpired);
        RequestClose(ClosePolicy, "maximum socket lifetime reached", flush: true);
    }

    private void OnFlushTimeout()
    {
        lock (_closeLock)
        {
            _closeFlush = false;
        }

        _abort.CancelAfter(_options.CloseTimeout);
        _queue.Wake();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client socket {SocketId} went away: {Reason}")]
    private partial void LogClientGone(string socketId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Client socket {SocketId} failed")]
    private partial void LogSessionFailed(Exception exception, string socketId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client socket {SocketId} sent a message larger than {MaxBytes} bytes; closing with 1009")]
    private partial void LogTooBig(string socketId, int maxBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Client socket {SocketId} does not read its answers ({Messages} messages, {Bytes} bytes queued); closing with 1013")]
    private partial void LogSlowConsumer(string socketId, int messages, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client socket {SocketId} ended with {Count} requests still in flight; their answers are dropped")]
    private partial void LogInFlightAbandoned(string socketId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding a message of socket {SocketId} to pool {Pool} failed")]
    private partial void LogForwardFailed(Exception exception, string socketId, string pool);
}
