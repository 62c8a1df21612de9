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

/// <summary>The send side of a client session: the bounded queue, the send loop and the close handshake.</summary>
internal sealed partial class ClientSession
{
    private void Enqueue(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        if (TrySendNow(bytes))
        {
            return;
        }

        _sendGate.Queued();
        if (_queue.TryEnqueue(bytes))
        {
            Interlocked.Increment(ref _metrics.QueuedMessages);
            return;
        }

        _sendGate.NotQueued();
        if (_abort.IsCancellationRequested || ReceiveEnded)
        {
            return; // the socket is gone; the answer has nowhere to go
        }

        // Answers that complete together may all find the queue full: only the one that closes the socket counts it.
        if (RequestClose(CloseTryAgainLater, "slow consumer: send queue full", flush: false))
        {
            Interlocked.Increment(ref _metrics.SlowConsumers);
            LogSlowConsumer(Info.SocketId, _queue.Count, _queue.Bytes);
        }
    }

    /// <summary>
    /// Writes <paramref name="message"/> at once on the calling thread when the socket is free, nothing waits in the
    /// queue and no close was asked for (the usual case below saturation: no hand-off to the send loop). False when
    /// the message must go through the queue instead.
    /// </summary>
    private bool TrySendNow(byte[] message)
    {
        if (Volatile.Read(ref _socket) is not { } socket || Volatile.Read(ref _closeRequested) || _abort.IsCancellationRequested)
        {
            return false;
        }

        switch (_sendGate.TrySendNow(socket, message, _abort.Token, IsSocketFailure, this, out _))
        {
            case DirectSend.Queue:
                return false;
            case DirectSend.Written:
                Interlocked.Increment(ref _metrics.FramesSent);
                return true;
            case DirectSend.Failed:
                Abort();
                return true;
            default:
                return true;
        }
    }

    void IDirectSendCompletion.OnDirectSendCompleted(Exception? failure)
    {
        if (failure is null)
        {
            Interlocked.Increment(ref _metrics.FramesSent);
        }
        else
        {
            Abort();
        }
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
                        await _sendGate.EnterForQueuedAsync();
                        try
                        {
                            if (!DropsQueuedMessages())
                            {
                                await Socket.SendAsync(message.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, _abort.Token);
                                Interlocked.Increment(ref _metrics.FramesSent);
                            }
                        }
                        finally
                        {
                            _sendGate.Exit();
                        }
                    }

                    if (ShouldCloseNow())
                    {
                        await _sendGate.EnterAsync(); // a message written directly finishes first
                        try
                        {
                            await CloseAsync();
                        }
                        finally
                        {
                            _sendGate.Exit();
                        }

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
                    _sendGate.NotQueued();
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
            await Socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            Abort();
            return;
        }

        // The client answers with its own close frame, which ends the receive loop (how it ended is the run's business).
        var receiving = Volatile.Read(ref _receiving)!;
        await receiving.WaitAsync(_options.CloseTimeout, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!receiving.IsCompleted)
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

        var drained = _inFlightDrained.Arm();
        if (Volatile.Read(ref _inFlight) == 0)
        {
            return;
        }

        try
        {
            // Answers of a socket that is gone only need to finish, not to be sent.
            await drained.WaitAsync(_options.DrainTimeout, _time);
        }
        catch (TimeoutException)
        {
            LogInFlightAbandoned(Info.SocketId, Volatile.Read(ref _inFlight));
        }
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
}
