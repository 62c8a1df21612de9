using Conduit.Runtime.Membership;
using Conduit.Runtime.Messaging;
using Conduit.Runtime.Observers;
using Conduit.Runtime.Transport;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Cluster;

internal sealed partial class ClusterMessageRouter
{
    private async Task SendToSiloAsync(SiloAddress silo, Message message)
    {
        FrameConnection connection;
        try
        {
            connection = await _transport!.GetSiloConnectionAsync(silo);
            _unreachable.TryRemove(silo, out _);
        }
        catch (ObjectDisposedException) when (_transport!.IsDisposed)
        {
            // This process's own side is gone (a call made after its silo or client stopped, such as a report a closing
            // upstream socket triggers): the other silo is not to blame, and nothing is sent.
            message.Reply(null, new SiloUnavailableException($"This {(_self is null ? "client" : "silo")} has stopped; call {message} was not sent."));
            return;
        }
        catch (Exception e)
        {
            // Logged once per silo while it stays unreachable, not once per call: until a crashed silo is declared dead,
            // every call for one of its grains ends here. Nor for a silo known to be dead: the view says it all.
            var known = IsUnreachable(silo) || _view!().IsDead(silo);
            _unreachable[silo] = _time.GetTimestamp();
            _cache.TryRemove(new KeyValuePair<GrainId, SiloAddress>(message.Target, silo));
            if (!known)
            {
                LogSiloUnreachable(_logger, silo.ToString(), e.Message);
            }

            if (_refreshView is not null)
            {
                await _refreshView(); // it may have left a moment ago
            }

            if (++message.ForwardCount <= MaxForwardCount && _view!().StatusOf(silo) is not SiloStatus.Active)
            {
                // It was leaving or is gone: place the call again among the others.
                _ = RouteUncachedAsync(message);
                return;
            }

            message.Reply(null, new SiloUnavailableException($"Silo {silo} (for {message.Target}) is unreachable: {e.Message}", e));
            return;
        }

        SendOver(connection, message, silo);
    }

    private void SendToObserver(Message message)
    {
        if (_observers.IsLocal(message.Target))
        {
            _observers.Dispatch(message);
            return;
        }

        if (ObserverRegistry.FindHomeSilo(message.Target) is { } home)
        {
            // Registered in another silo (a co-hosted gateway's socket): the call goes to that silo, which dispatches it.
            if (_transport!.TryGetOpenConnection(home, out var open))
            {
                SendOver(open, message, silo: null);
            }
            else
            {
                _ = SendToObserverSiloAsync(home, message);
            }

            return;
        }

        var runtimeId = message.Target.Key.Split('/')[0];
        var connection = _transport!.FindClient(runtimeId);
        if (connection is null)
        {
            message.Reply(null, new SiloUnavailableException($"Observer {message.Target}: its client is not connected to this silo."));
            return;
        }

        SendOver(connection, message, silo: null);
    }

    private async Task SendToObserverSiloAsync(SiloAddress home, Message message)
    {
        FrameConnection connection;
        try
        {
            connection = await _transport!.GetSiloConnectionAsync(home);
        }
        catch (Exception e)
        {
            // Never re-placed: an observer lives only where it was registered.
            message.Reply(null, new SiloUnavailableException($"Observer {message.Target}: its silo {home} is unreachable: {e.Message}", e));
            return;
        }

        SendOver(connection, message, silo: null);
    }

    private void SendOver(FrameConnection connection, Message message, SiloAddress? silo)
    {
        var request = new ClusterMessage
        {
            Kind = message.ReplyTo is null ? MessageKind.OneWay : MessageKind.Request,
            Target = message.Target.ToString(),
            Method = message.Method.Method,
            Arguments = message.Arguments,
            CallChain = message.CallChain?.ToList().Select(g => g.ToString()).ToList(),
        };
        try
        {
            if (message.ReplyTo is null)
            {
                _transport!.Send(connection, request);
                return;
            }

            var resultType = message.Method.ResultType == typeof(void) ? null : message.Method.ResultType;
            _transport!.SendRequest(connection, request, resultType, (reply, error) => OnRemoteReply(message, silo, reply, error));
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            message.Reply(null, new ArgumentException($"The arguments of {message} cannot be sent to another process: {e.Message}", e));
        }
    }

    private void OnRemoteReply(Message message, SiloAddress? silo, ClusterMessage? reply, Exception? error)
    {
        if (reply is null)
        {
            if (silo is not null)
            {
                _cache.TryRemove(new KeyValuePair<GrainId, SiloAddress>(message.Target, silo));
                if (error is SiloUnavailableException)
                {
                    _ = RetryIfSiloLeftAsync(message, silo, error);
                    return;
                }
            }

            message.Reply(null, error);
            return;
        }

        switch (reply.Kind)
        {
            case MessageKind.Response when reply.DecodeError is not null:
                message.Reply(null, new GrainCallException("System.Text.Json.JsonException", reply.DecodeError, null));
                break;
            case MessageKind.Response:
                RememberOwner(message, silo);
                message.Reply(reply.Result, null);
                break;
            case MessageKind.Fault:
                RememberOwner(message, silo);
                message.Reply(null, ExceptionCodec.ToException(reply.ErrorType, reply.ErrorMessage, reply.ErrorStack));
                break;
            case MessageKind.Moved:
                var owner = reply.Address is null ? null : SiloAddress.Parse(reply.Address);
                if (owner is not null && owner != silo)
                {
                    _cache[message.Target] = owner;
                }
                else
                {
                    _cache.TryRemove(message.Target, out _);
                    if (silo is not null)
                    {
                        // It is leaving: keep new calls off it, and wait for its grains to leave the directory.
                        _unreachable[silo] = _time.GetTimestamp();
                        _leaving[silo] = _time.GetTimestamp();
                    }
                }

                if (++message.ForwardCount > MaxForwardCount)
                {
                    message.Reply(null, new SiloUnavailableException($"Call {message} was moved {MaxForwardCount} times and was given up on."));
                    return;
                }

                Send(message);
                break;
        }
    }

    /// <summary>
    /// A connection closed under a call. If the silo left gracefully (it deactivated its grains and answered
    /// "moved" before closing), the call was not run there and goes elsewhere; if it crashed, the call fails.
    /// </summary>
    private async Task RetryIfSiloLeftAsync(Message message, SiloAddress silo, Exception error)
    {
        if (_refreshView is not null)
        {
            await _refreshView();
        }

        if (_view!().StatusOf(silo) is SiloStatus.ShuttingDown or SiloStatus.Dead && ++message.ForwardCount <= MaxForwardCount)
        {
            _unreachable[silo] = _time.GetTimestamp();
            Send(message);
            return;
        }

        message.Reply(null, error);
    }

    private void RememberOwner(Message message, SiloAddress? silo)
    {
        // The silo answered, so it holds the grain (placement went there without a directory entry, or Redis is down).
        if (silo is not null && !_cache.ContainsKey(message.Target))
        {
            _cache[message.Target] = silo;
        }
    }

    private void OnRemoteRequest(ClusterMessage request, FrameConnection connection)
    {
        var sink = ((ClusterTransport.Peer)connection.Tag!).Sink;
        var replyTo = request.Kind == MessageKind.OneWay ? null : sink;
        if (request.DecodeError is not null || request.Method is null || request.Target is null)
        {
            LogBadRequest(_logger, request.Target ?? "?", request.DecodeError ?? "no method or target");
            if (replyTo is not null)
            {
                _transport!.Send(connection, new ClusterMessage
                {
                    Kind = MessageKind.Fault, Id = request.Id, ErrorType = typeof(ArgumentException).FullName,
                    ErrorMessage = request.DecodeError ?? "The request names no method or target.",
                });
            }

            return;
        }

        var target = GrainId.Parse(request.Target);
        var method = _registry.GetInterface(request.Method.DeclaringType!).GetMethod(request.Method);
        var chain = request.CallChain is { Count: > 0 } links ? CallChain.FromList(links.Select(GrainId.Parse)) : null;
        var message = new Message(request.Id, target, method, request.Arguments ?? [], chain, replyTo) { MayRunInline = true };
        if (target.Type == ObserverRegistry.ObserverGrainType)
        {
            _observers.Dispatch(message);
        }
        else if (_catalog is not null && !_killed && _catalog.Find(target) is not null)
        {
            _catalog.Dispatch(message);
        }
        else
        {
            _ = DeliverHereAsync(message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} is unreachable: {Reason}")]
    private static partial void LogSiloUnreachable(ILogger logger, string silo, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a request for {Target}: {Reason}")]
    private static partial void LogBadRequest(ILogger logger, string target, string reason);
}
