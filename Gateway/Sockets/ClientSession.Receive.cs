using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Conduit.Gateway.Availability;
using Conduit.Gateway.JsonRpc;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Quotas;
using Conduit.Grains;
using Conduit.Grains.Sockets;
using Microsoft.Extensions.Logging;

namespace Conduit.Gateway.Sockets;

/// <summary>The receive side of a client session: reading frames and forwarding messages.</summary>
internal sealed partial class ClientSession
{
    private async Task ReceiveLoopAsync()
    {
        while (true)
        {
            // A zero-byte read waits for the next frame without holding a buffer, so idle sockets cost little memory.
            var first = await Socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
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

                    last = await Socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
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
            while ((await Socket.ReceiveAsync(scratch.AsMemory(), CancellationToken.None)).MessageType != WebSocketMessageType.Close)
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

            if (Volatile.Read(ref _inFlight) >= _options.MaxInFlightPerSocket)
            {
                await WaitForSlotAsync();
            }

            Interlocked.Increment(ref _inFlight); // only this loop adds, so the slot it saw free is still free
            Interlocked.Increment(ref _pool.InFlight);
            Interlocked.Increment(ref _metrics.InFlight);
            _ = ForwardAsync(item, batch, i, _time.GetTimestamp());
        }
    }

    private async Task ForwardAsync(JsonRpcItem item, BatchResponse? batch, int index, long started)
    {
        string? answer;
        long sequence = 0; // the answer's place in the upstream's order (session mode)
        try
        {
            try
            {
                (answer, sequence) = await _agent.Forward(item.Message!);
            }
            catch (AgentNotOpenException)
            {
                // The agent was activated again elsewhere (its silo stopped or died) and lost its binding: bind it again and
                // resend once; in session mode the session went with the old activation, and the client is told so. A silo
                // that stops moves all of its agents at once: one line per 10 s, the count in /metrics.
                Interlocked.Increment(ref _metrics.AgentsRebound);
                if (_repeated.Admit("agent activated again, bound again", LogLevel.Information))
                {
                    LogAgentReopened(Info.SocketId, Info.AgentKey);
                }

                if (await _agent.Rebind(OpenRequest, Observer!))
                {
                    (answer, sequence) = await _agent.Forward(item.Message!);
                }
                else
                {
                    RequestClose(CloseInternalError, "session lost", flush: true);
                    answer = item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.UpstreamFailed, "Upstream session lost: the agent's silo failed; connect again to start a new session", ("pool", Info.Pool));
                }
            }
        }
        catch (TimeoutException)
        {
            Interlocked.Increment(ref _pool.RequestErrors);
            var waited = (long)_time.GetElapsedTime(started).TotalMilliseconds;
            answer = item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.RequestTimeout, "Request timed out", ("timeoutMs", waited));
        }
        catch (Exception ex) when (ClusterFailures.IsUnavailable(ex))
        {
            // The agent's (or its pool's) silo cannot be reached now: DESIGN's upstream-failed code, so clients retry.
            Interlocked.Increment(ref _pool.RequestErrors);
            if (_repeated.Admit("forwarding failed, cluster unavailable"))
            {
                LogForwardUnavailable(Info.SocketId, Info.Pool, ex.Message);
            }
            answer = item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.UpstreamFailed, "Upstream unavailable: the cluster cannot reach this agent's grains right now", ("pool", Info.Pool));
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _pool.RequestErrors);
            LogForwardFailed(ex, Info.SocketId, Info.Pool);
            answer = item.IsNotification ? null : JsonRpcErrors.Create(item.IdJson, JsonRpcErrorCodes.InternalError, "Internal error");
        }

        _metrics.RequestDuration(_time.GetElapsedTime(started));
        Interlocked.Increment(ref _pool.RequestsCompleted);
        Deliver(batch, index, answer, sequence);
        Interlocked.Decrement(ref _metrics.InFlight);
        Interlocked.Decrement(ref _pool.InFlight);
        var left = Interlocked.Decrement(ref _inFlight);
        _slotFreed.Wake();
        if (left == 0)
        {
            Volatile.Read(ref _order)?.NothingInFlight();
            if (IsClosing)
            {
                _queue.Wake();
            }

            _inFlightDrained.Wake();
        }
    }

    /// <summary>Waits until fewer than <see cref="GatewayOptions.MaxInFlightPerSocket"/> requests are in flight.</summary>
    private async Task WaitForSlotAsync()
    {
        while (true)
        {
            var freed = _slotFreed.Arm();
            if (Volatile.Read(ref _inFlight) < _options.MaxInFlightPerSocket)
            {
                return;
            }

            await freed;
        }
    }

    /// <summary>Writes an answer (or keeps it for its batch); <paramref name="sequence"/> is its place in the upstream's order, 0 when it has none.</summary>
    private void Deliver(BatchResponse? batch, int index, string? answer, long sequence = 0)
    {
        if (batch is null)
        {
            if (sequence > 0)
            {
                Order.Answer(answer, [sequence]); // pushes held behind it follow it
            }
            else if (answer is not null)
            {
                Enqueue(answer);
            }

            return;
        }

        var joined = batch.Complete(index, answer, sequence, out var wasLast);
        if (wasLast && batch.Sequences is { } sequences)
        {
            Order.Answer(joined, sequences);
        }
        else if (joined is not null)
        {
            Enqueue(joined);
        }
    }
}
