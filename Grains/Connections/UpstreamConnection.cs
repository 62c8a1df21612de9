using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Conduit.Grains.JsonRpc;
using Conduit.Grains.Sockets;
using Microsoft.Extensions.Logging;

namespace Conduit.Grains.Connections;

/// <summary>
/// One upstream <see cref="ClientWebSocket"/> and its two loops (reader and writer). Each request's
/// id is replaced by a number unique on this socket and restored on the reply, so clients' ids never
/// collide. When the socket ends for any reason, every request still in flight is answered at once
/// with -32004. Messages that answer no pending request (notifications, server pushes) go to
/// <c>onUnsolicited</c>; an answer to a request that is no longer pending (it timed out) is dropped. Every answer and
/// push handed out carries its place in the socket's order of messages, so that a session's client can be given
/// them in the upstream's order although they travel different ways (<see cref="StartSequence"/>). Thread-safe:
/// the grain calls it concurrently (it is reentrant) and the loops run on the thread pool.
/// </summary>
internal sealed partial class UpstreamConnection : IAsyncDisposable, IDirectSendCompletion
{
    private const int ReadBufferBytes = 8192;
    private const int KeptReadBufferBytes = 64 * 1024;

    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly Channel<byte[]> _outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WebSocketSendGate _sendGate = new(); // one write at a time: the sender's own when the socket is free, else the write loop's
    private readonly CancellationTokenSource _stop = new();
    private readonly string _pool;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<string, long> _onUnsolicited;
    private readonly Action<string> _onClosed;
    private readonly int _maxMessageBytes;
    private long _nextId;
    private long _requests;
    private long _latencyMaxTicks = -1;
    private long _handedOut; // answers and pushes handed out so far (written by the reader loop only)
    private long _sequenceBase; // _handedOut when the current session started
    private int _closed;
    private int _disposed;
    private ITimer? _sweeper; // guarded by _pending's lock
    private long _sweepPeriodTicks = long.MaxValue;
    private string _closeReason = "not connected";
    private Task _reader = Task.CompletedTask;
    private Task _writer = Task.CompletedTask;

    public UpstreamConnection(string pool, TimeProvider time, ILogger logger, Action<string, long> onUnsolicited, Action<string> onClosed, int maxMessageBytes = UpstreamLimits.DefaultMaxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageBytes, UpstreamLimits.MinMaxMessageBytes);
        _maxMessageBytes = maxMessageBytes;
        _pool = pool;
        _time = time;
        _logger = logger;
        _onUnsolicited = onUnsolicited;
        _onClosed = onClosed;
    }

    /// <summary>Whether the socket is open and not closed by us.</summary>
    public bool IsOpen => Volatile.Read(ref _closed) == 0 && _socket.State == WebSocketState.Open;

    /// <summary>Requests (with ids) waiting for their answer.</summary>
    public int InFlight => _pending.Count;

    /// <summary>Requests and notifications sent so far.</summary>
    public long RequestsSent => Interlocked.Read(ref _requests);

    /// <summary>Why the socket ended, once it has.</summary>
    public string CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>
    /// Numbers the answers and pushes handed out from now on 1, 2, 3... in the order they were read off the socket
    /// (<see cref="UpstreamReply.Sequence"/>, the second argument of <c>onUnsolicited</c>). Called when a session
    /// attaches, before it sends anything; health probes' answers are not numbered, as nobody outside sees them.
    /// </summary>
    public void StartSequence() => Interlocked.Exchange(ref _sequenceBase, Interlocked.Read(ref _handedOut));

    /// <summary>
    /// Connects within <paramref name="timeout"/>, asking for <paramref name="subProtocol"/> when given; keep-alive pings
    /// every <paramref name="pingInterval"/>, dead after <paramref name="pingTimeout"/> without a pong.
    /// </summary>
    public async Task ConnectAsync(Uri url, TimeSpan timeout, TimeSpan pingInterval, TimeSpan pingTimeout, CancellationToken cancellationToken, string? subProtocol = null)
    {
        _socket.Options.KeepAliveInterval = pingInterval;
        _socket.Options.KeepAliveTimeout = pingTimeout;
        if (subProtocol is not null)
        {
            _socket.Options.AddSubProtocol(subProtocol);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        cts.CancelAfter(timeout);
        await _socket.ConnectAsync(url, cts.Token);
        _reader = Task.Run(ReadLoopAsync);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>
    /// Sends one JSON-RPC request or notification (<paramref name="utf8"/>, a single object) and waits
    /// for its answer up to <paramref name="timeout"/> (checked by a sweep: at most a tenth of the timeout late;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits until an answer or the socket's end).
    /// </summary>
    public Task<UpstreamReply> SendAsync(ReadOnlyMemory<byte> utf8, JsonRpcEnvelope envelope, TimeSpan timeout)
        => Send(utf8, envelope, timeout, sequenced: true);

    private Task<UpstreamReply> Send(ReadOnlyMemory<byte> utf8, JsonRpcEnvelope envelope, TimeSpan timeout, bool sequenced)
    {
        var idJson = envelope.HasId ? utf8.Span.Slice(envelope.IdStart, envelope.IdLength).ToArray() : null;
        if (!IsOpen)
        {
            return Task.FromResult(new UpstreamReply(UpstreamOutcome.NotSent, JsonRpcErrors.UpstreamFailed(IdText(idJson), _pool, CloseReason)));
        }

        if (!envelope.HasId || !envelope.HasMethod)
        {
            // A notification, or a response to a request the upstream sent: written as is, nothing to wait for.
            Interlocked.Increment(ref _requests);
            return Task.FromResult(TrySend(utf8.ToArray())
                ? new UpstreamReply(UpstreamOutcome.Sent, null)
                : new UpstreamReply(UpstreamOutcome.NotSent, null));
        }

        var started = _time.GetTimestamp();
        var deadline = long.MaxValue; // Timeout.InfiniteTimeSpan: no deadline
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
            EnsureSweeper(timeout);
            deadline = started + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        }

        var upstreamId = Interlocked.Increment(ref _nextId);
        var pending = new Pending(idJson, started, deadline, timeout, sequenced);
        _pending[upstreamId] = pending;
        var frame = envelope.WithId(utf8.Span, Encoding.ASCII.GetBytes(upstreamId.ToString(CultureInfo.InvariantCulture)));
        Interlocked.Increment(ref _requests);
        var written = TrySend(frame);
        if ((!written || !IsOpen) && _pending.TryRemove(upstreamId, out _))
        {
            // Closed between the check and the write, and FailAll did not see this entry. If the frame
            // was queued it may have gone out, so only an unwritten one may be sent elsewhere.
            return Task.FromResult(new UpstreamReply(written ? UpstreamOutcome.Failed : UpstreamOutcome.NotSent, JsonRpcErrors.UpstreamFailed(IdText(idJson), _pool, CloseReason)));
        }

        return pending.Task;
    }

    /// <summary>Sends a JSON-RPC probe <paramref name="method"/>; returns its round-trip time, or null when it failed or timed out.</summary>
    public async Task<TimeSpan?> ProbeAsync(string method, TimeSpan timeout)
    {
        var probe = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":0,"method":{{System.Text.Json.JsonSerializer.Serialize(method)}}}""");
        JsonRpcEnvelope.TryParse(probe, out var envelope);
        var started = _time.GetTimestamp();
        var reply = await Send(probe, envelope, timeout, sequenced: false);
        return reply.Outcome == UpstreamOutcome.Answered ? _time.GetElapsedTime(started) : null;
    }

    /// <summary>The slowest answer since the last call (null when nothing was answered), for passive health checks.</summary>
    public TimeSpan? TakeLatencySample()
    {
        var ticks = Interlocked.Exchange(ref _latencyMaxTicks, -1);
        return ticks < 0 ? null : TimeSpan.FromTicks(ticks);
    }

    /// <summary>Closes with a close handshake (bounded by <paramref name="timeout"/>), then stops the loops.</summary>
    public async Task CloseAsync(string reason, TimeSpan timeout)
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason, cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The peer is gone already; aborting below is all that is left.
            }
        }

        MarkClosed(reason);
        await DisposeAsync();
    }

    /// <summary>Aborts the socket, fails what is in flight and awaits both loops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        MarkClosed("closed");
        lock (_pending)
        {
            _sweeper?.Dispose();
            _sweeper = null;
        }

        _stop.Cancel();
        _socket.Abort();
        _outbox.Writer.TryComplete();
        await Task.WhenAll(_reader, _writer);
        FailAll();
        _socket.Dispose();
        _stop.Dispose();
    }

    /// <summary>
    /// Writes <paramref name="frame"/> at once on the calling thread when nothing is being sent or waiting (the usual
    /// case below saturation: no hand-off to the write loop), else queues it for the write loop. False when the frame
    /// was certainly not sent (closed); true when it was written or queued.
    /// </summary>
    private bool TrySend(byte[] frame)
    {
        switch (_sendGate.TrySendNow(_socket, frame, _stop.Token, IsSocketFailure, this, out var failure))
        {
            case DirectSend.Queue:
                _sendGate.Queued();
                if (_outbox.Writer.TryWrite(frame))
                {
                    return true;
                }

                _sendGate.NotQueued();
                return false;
            case DirectSend.Failed:
                Terminate($"send failed: {failure!.Message}");
                return false;
            default:
                return true;
        }
    }

    private static bool IsSocketFailure(Exception e) => e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException;

    void IDirectSendCompletion.OnDirectSendCompleted(Exception? failure)
    {
        if (failure is not null)
        {
            Terminate($"send failed: {failure.Message}");
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(_stop.Token))
            {
                while (_outbox.Reader.TryRead(out var frame))
                {
                    await _sendGate.EnterForQueuedAsync(_stop.Token);
                    try
                    {
                        await _socket.SendAsync(frame, WebSocketMessageType.Text, true, _stop.Token);
                    }
                    finally
                    {
                        _sendGate.Exit();
                    }
                }
            }
        }
        catch (Exception e) when (IsSocketFailure(e))
        {
            Terminate($"send failed: {e.Message}");
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(ReadBufferBytes);
        var reason = "upstream closed the socket";
        try
        {
            while (true)
            {
                if (buffer.Capacity > KeptReadBufferBytes)
                {
                    buffer = new ArrayBufferWriter<byte>(ReadBufferBytes); // one large answer does not pin its buffer for the socket's life
                }

                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.GetMemory(ReadBufferBytes), _stop.Token);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close && buffer.WrittenCount <= _maxMessageBytes);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    reason = $"upstream closed the socket ({_socket.CloseStatus})";
                    break;
                }

                if (buffer.WrittenCount > _maxMessageBytes)
                {
                    reason = $"upstream sent a message larger than {_maxMessageBytes} bytes (MaxMessageBytes)";
                    LogOversized(_logger, _pool, _maxMessageBytes);
                    break;
                }

                if (!Dispatch(buffer.WrittenSpan))
                {
                    reason = "upstream sent a message that is not JSON";
                    LogGarbage(_logger, _pool, Encoding.UTF8.GetString(buffer.WrittenSpan[..Math.Min(80, buffer.WrittenCount)]));
                    break;
                }
            }
        }
        catch (Exception e) when (IsSocketFailure(e))
        {
            reason = _stop.IsCancellationRequested ? CloseReason : $"socket failed: {e.Message}";
        }

        Terminate(reason);
    }

    private bool Dispatch(ReadOnlySpan<byte> utf8)
    {
        if (!JsonRpcEnvelope.TryParse(utf8, out var envelope))
        {
            return false;
        }

        if (envelope.IsObject && envelope.HasId && !envelope.HasMethod
            && long.TryParse(utf8.Slice(envelope.IdStart, envelope.IdLength), NumberStyles.None, CultureInfo.InvariantCulture, out var upstreamId))
        {
            // Every request goes out with a number of this socket as its id, so an answer with such a number that no
            // request waits for any more (it timed out) is for nobody; handed on, it would reach a session's client with
            // an id the client never sent. Other ids (null: the upstream could not read a request) are handed on.
            if (!_pending.TryRemove(upstreamId, out var pending))
            {
                LogAnswerDropped(_logger, _pool, upstreamId);
                return true;
            }

            var latency = _time.GetElapsedTime(pending.StartedAt).Ticks;
            long seen;
            while (latency > (seen = Interlocked.Read(ref _latencyMaxTicks)) && Interlocked.CompareExchange(ref _latencyMaxTicks, latency, seen) != seen)
            {
            }

            var response = pending.IdJson is null ? string.Empty : Encoding.UTF8.GetString(envelope.WithId(utf8, pending.IdJson));
            pending.TrySetResult(new UpstreamReply(UpstreamOutcome.Answered, response, pending.Sequenced ? NextSequence() : 0));
            return true;
        }

        var text = Encoding.UTF8.GetString(utf8);
        try
        {
            _onUnsolicited(text, NextSequence());
        }
        catch (Exception e)
        {
            LogCallbackFailed(_logger, _pool, e);
        }

        return true;
    }

    /// <summary>The place of the message being handed out (reader loop only); 0 when a session started meanwhile, as it is not the session's.</summary>
    private long NextSequence() => Math.Max(0, Interlocked.Increment(ref _handedOut) - Interlocked.Read(ref _sequenceBase));

    private void Terminate(string reason)
    {
        MarkClosed(reason);
        _socket.Abort();
        _outbox.Writer.TryComplete();
        FailAll();
        if (Interlocked.Exchange(ref _closed, 2) != 2)
        {
            try
            {
                _onClosed(CloseReason);
            }
            catch (Exception e)
            {
                LogCallbackFailed(_logger, _pool, e);
            }
        }
    }

    private void MarkClosed(string reason)
    {
        if (Interlocked.CompareExchange(ref _closed, 1, 0) == 0)
        {
            Volatile.Write(ref _closeReason, reason);
        }
    }

    private void FailAll()
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.TrySetResult(new UpstreamReply(UpstreamOutcome.Failed, JsonRpcErrors.UpstreamFailed(IdText(pending.IdJson), _pool, CloseReason)));
            }
        }
    }

    private static string? IdText(byte[]? idJson) => idJson is null ? null : Encoding.UTF8.GetString(idJson);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool}: upstream sent a message that is not JSON ({Start}); closing the socket")]
    private static partial void LogGarbage(ILogger logger, string pool, string start);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool}: upstream sent a message larger than {MaxBytes} bytes (MaxMessageBytes); closing the socket")]
    private static partial void LogOversized(ILogger logger, string pool, int maxBytes);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pool {Pool}: dropped the answer to upstream request {Id}, which no request waits for any more (it timed out)")]
    private static partial void LogAnswerDropped(ILogger logger, string pool, long id);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pool {Pool}: a connection callback failed")]
    private static partial void LogCallbackFailed(ILogger logger, string pool, Exception exception);

    /// <summary>
    /// Deadlines are checked by one periodic sweep per socket rather than a timer per request. Its period is a tenth of
    /// the shortest timeout asked for so far (1 ms to 1 s); it runs from the first request until the socket is disposed.
    /// </summary>
    private void EnsureSweeper(TimeSpan timeout)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 10, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond));
        if (period.Ticks >= Volatile.Read(ref _sweepPeriodTicks))
        {
            return;
        }

        lock (_pending)
        {
            if (period.Ticks >= _sweepPeriodTicks || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            _sweepPeriodTicks = period.Ticks;
            if (_sweeper is null)
            {
                _sweeper = _time.CreateTimer(static s => ((UpstreamConnection)s!).SweepExpired(), this, period, period);
            }
            else
            {
                _sweeper.Change(period, period);
            }
        }
    }

    private void SweepExpired()
    {
        var now = _time.GetTimestamp();
        foreach (var (id, pending) in _pending)
        {
            if (pending.Deadline <= now && _pending.TryRemove(id, out _))
            {
                pending.TrySetResult(new UpstreamReply(UpstreamOutcome.TimedOut, JsonRpcErrors.Timeout(IdText(pending.IdJson), pending.Timeout)));
            }
        }
    }

    /// <summary>A request waiting for its answer; it is also the completion its sender awaits.</summary>
    private sealed class Pending(byte[]? idJson, long startedAt, long deadline, TimeSpan timeout, bool sequenced)
        : TaskCompletionSource<UpstreamReply>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        /// <summary>Whether its answer is numbered (a health probe's is not: nobody outside sees it).</summary>
        public bool Sequenced { get; } = sequenced;

        public byte[]? IdJson { get; } = idJson;

        public long StartedAt { get; } = startedAt;

        public long Deadline { get; } = deadline;

        public TimeSpan Timeout { get; } = timeout;
    }
}
