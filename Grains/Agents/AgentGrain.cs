using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conduit.Grains.JsonRpc;
using Conduit.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Grains.Agents;

/// <summary>
/// One agent session (key "{tenant}/{agent}"). Forwards each JSON-RPC message straight to the
/// connection grain it holds a lease on (the pool grain only grants leases), answers with the
/// client's own id, and de-duplicates ids within 300 s. Request mode: the lease is kept while the
/// agent is busy and given back after LeaseIdleRelease without traffic. Session mode: the lease is
/// an exclusive connection whose unsolicited messages go to the agent's observer. Reentrant: a
/// client may have many requests in flight.
/// </summary>
[Reentrant]
internal sealed partial class AgentGrain : Grain, IAgentGrain
{
    /// <summary>How many connections retired by their pool one request may find before it is answered with -32004.</summary>
    private const int MaxRetiredRefusals = 8;

    private static readonly TimeSpan PrunePeriod = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time;
    private readonly ILogger<AgentGrain> _logger;
    private readonly DedupCache _dedup;
    private string _key = string.Empty;
    private string? _poolName;
    private IPoolGrain? _pool;
    private PoolTerms? _terms; // what the agent needs of its pool's PoolInfo (not the whole of it: one per open socket)
    private IAgentObserver? _observer;
    private string? _socketId; // the socket that opened the agent last
    private bool _anonymous; // its id was chosen by the gateway: nobody can reach it after its socket
    private AgentLease? _lease;
    private Task<LeaseResult>? _acquiring;
    private IGrainTimer? _pruneTimer;
    private IGrainTimer? _leaseTimer;
    private int _inFlight;
    private bool _idleCheckPending;
    private string? _yieldLease;
    private DateTimeOffset _lastActivity;
    private DateTimeOffset _lastRenew;

    public AgentGrain(IOptions<AgentOptions> options, TimeProvider time, ILogger<AgentGrain> logger)
    {
        _dedup = new DedupCache(options.Value);
        _time = time;
        _logger = logger;
    }

    private bool SessionMode => _terms?.SessionMode == true;

    private TimeSpan IdleRelease => TimeSpan.FromMilliseconds(_terms?.LeaseIdleReleaseMs ?? 0);

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = GetPrimaryKeyString();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _pruneTimer?.Dispose();
        _leaseTimer?.Dispose();
        if (_lease is { } lease)
        {
            await DropLeaseAsync(lease, connectionFailed: false);
            if (SessionMode && _observer is not null)
            {
                // The session ends with this activation (its silo is stopping): tell the client now rather than at its
                // next request, which would find the agent elsewhere without it.
                SessionLost($"deactivated: {reason.Text}", "session lost");
            }
        }
    }

    /// <inheritdoc />
    public async Task Open(AgentOpenRequest request, IAgentObserver observer)
    {
        if (_lease is { } old && request.Pool != _poolName)
        {
            await DropLeaseAsync(old, connectionFailed: false);
        }

        await BindAsync(request, observer, await TermsOfAsync(request.Pool));
    }

    /// <inheritdoc />
    public async Task<bool> Rebind(AgentOpenRequest request, IAgentObserver observer)
    {
        if (_pool is not null)
        {
            return true; // another request of the same socket bound it again already
        }

        var terms = await TermsOfAsync(request.Pool);
        if (terms.SessionMode)
        {
            LogSessionLost(_logger, _key, "activated again without its session connection");
            return false;
        }

        await BindAsync(request, observer, terms);
        return true;
    }

    private async Task<PoolTerms> TermsOfAsync(string pool) => PoolTerms.From(await GrainFactory.GetGrain<IPoolGrain>(pool).GetInfo());

    /// <summary>Serves the socket of <paramref name="request"/> through its pool, on <paramref name="terms"/>.</summary>
    private async Task BindAsync(AgentOpenRequest request, IAgentObserver observer, PoolTerms terms)
    {
        _poolName = request.Pool;
        _pool = GrainFactory.GetGrain<IPoolGrain>(request.Pool);
        _observer = observer;
        _socketId = request.SocketId;
        _anonymous = request.Anonymous;
        _terms = terms;
        if (SessionMode && _lease is { } held)
        {
            await held.Connection.AttachSession(observer);
        }

        // An agent serving a socket must not be collected (it would forget its pool and lease); Close lets it go.
        // No timer for that: an idle socket's agent arms none.
        DelayDeactivation(TimeSpan.MaxValue);
    }

    /// <inheritdoc />
    public async Task<string?> Send(string message) => (await Forward(message)).Response;

    /// <inheritdoc />
    public async Task<AgentAnswer> Forward(string message)
    {
        var utf8 = Encoding.UTF8.GetBytes(message);
        if (!JsonRpcEnvelope.TryParse(utf8, out var envelope))
        {
            return new AgentAnswer(JsonRpcErrors.Create(null, JsonRpcErrorCodes.ParseError, "Parse error"));
        }

        // Session mode: the client may answer a request the upstream sent it (it has an id, no method);
        // that answer goes upstream as is and gets no reply. Anything else without a method is invalid.
        var clientResponse = envelope.IsObject && !envelope.HasMethod && envelope.HasId && SessionMode;
        if (!envelope.IsObject || (!envelope.HasMethod && !clientResponse))
        {
            return new AgentAnswer(JsonRpcErrors.Create(envelope.IsObject ? envelope.IdJson(utf8) : null, JsonRpcErrorCodes.InvalidRequest, "Invalid Request"));
        }

        if (_pool is null)
        {
            // A fresh activation (the previous one's silo died, or it was collected): the caller binds it again.
            throw new AgentNotOpenException($"Agent '{_key}' is not open: it was activated again without its socket's binding; call Open and resend.");
        }

        // A notification, like a client's answer, is forwarded without a reply and is not de-duplicated.
        var id = clientResponse ? null : envelope.IdJson(utf8);
        if (_terms is not { Configured: true })
        {
            return new AgentAnswer(id is null ? null : JsonRpcErrors.Create(id, JsonRpcErrorCodes.InternalError, $"pool '{_poolName}' is not configured"));
        }

        var now = _time.GetUtcNow();
        DedupEntry? entry = null;
        if (id is not null)
        {
            if (_dedup.TryGet(id, now, out var seen))
            {
                LogDuplicate(_logger, _key, id);
                return new AgentAnswer(await seen); // a copy: the upstream's answer, and its place, went to the first request
            }

            entry = _dedup.Add(id, now);
            if (entry is not null)
            {
                _pruneTimer ??= RegisterGrainTimer(_ => PruneAsync(), new GrainTimerCreationOptions(PrunePeriod, PrunePeriod) { Interleave = true });
            }
        }

        // The forwarding loop is part of this method rather than a method of its own: every async level that waits for
        // the upstream costs a continuation scheduled on the activation per request (docs/runtime.md, "A turn's awaits").
        var result = new ForwardResult(null, false);
        long sequence = 0;
        try
        {
            // Three tries on connections that fail. A connection that refuses because its pool retired it (rotation, TTL)
            // is no failed try: under heavy churn a new lease can land on a connection that is retired before the request
            // reaches it, several times in a row. Those refusals are bounded separately.
            for (int failures = 0, refusals = 0; failures < 3 && refusals < MaxRetiredRefusals;)
            {
                // In flight from here on, while the lease is acquired too: a lease granted for this request is not given
                // back (yield, idle release) before the request has used it.
                _inFlight++;
                AgentLease? lease = null;
                ConnectionReply reply;
                try
                {
                    // Fast path: a busy agent holds its lease and does not touch the pool.
                    lease = _lease;
                    string? error = null;
                    if (lease is null)
                    {
                        (lease, error) = await EnsureLeaseAsync(id);
                    }

                    reply = lease is null
                        ? new ConnectionReply(error, Sent: false, ConnectionFailed: false, Answered: false)
                        : await lease.Connection.Send(utf8);
                }
                catch (Exception e) when (lease is not null)
                {
                    reply = FailedReply(e, lease, id);
                }
                finally
                {
                    RequestDone();
                }

                result = new ForwardResult(id is null ? null : reply.Response, reply.Answered);
                sequence = reply.Sequence;
                if (lease is null)
                {
                    break; // no lease: the pool's answer (exhausted, breaker open) is the response
                }

                if (reply.ConnectionFailed)
                {
                    await DropLeaseAsync(lease, connectionFailed: true);
                    if (SessionMode)
                    {
                        // The session lived on that connection: the client must know, not carry on on another one.
                        SessionLost(lease.ConnectionKey, "session connection lost");
                    }
                }

                // Nothing reached the upstream: another connection may take it (not in session mode,
                // where the session's state lived on the lost connection).
                if (reply.Sent || !reply.ConnectionFailed || SessionMode)
                {
                    break;
                }

                if (reply.Retired)
                {
                    refusals++;
                }
                else
                {
                    failures++;
                }
            }
        }
        catch (Exception e)
        {
            _dedup.Failed(entry, e, now);
            throw;
        }

        _dedup.Completed(entry, result, now);
        return new AgentAnswer(result.Response, sequence);
    }

    /// <inheritdoc />
    public async Task<string?> SendBatch(string batch)
    {
        JsonArray? items;
        try
        {
            items = JsonNode.Parse(batch) as JsonArray;
        }
        catch (JsonException)
        {
            return JsonRpcErrors.Create(null, JsonRpcErrorCodes.ParseError, "Parse error");
        }

        if (items is null || items.Count == 0)
        {
            return JsonRpcErrors.Create(null, JsonRpcErrorCodes.InvalidRequest, "Invalid Request");
        }

        var responses = await Task.WhenAll(items.Select(item => item is JsonObject
            ? Send(item.ToJsonString())
            : Task.FromResult<string?>(JsonRpcErrors.Create(null, JsonRpcErrorCodes.InvalidRequest, "Invalid Request"))));
        var present = responses.Where(r => r is not null).ToList();
        return present.Count == 0 ? null : "[" + string.Join(",", present) + "]";
    }

    /// <inheritdoc />
    public Task YieldLease(string leaseId)
    {
        if (SessionMode)
        {
            return Task.CompletedTask;
        }

        if (_lease is { } lease && lease.Id == leaseId)
        {
            if (_inFlight == 0)
            {
                return DropLeaseAsync(lease, connectionFailed: false);
            }

            _yieldLease = leaseId;
        }
        else if (_acquiring is not null)
        {
            // The pool may ask for a lease back before its grant has reached this agent: the request that waited for it
            // uses it once, then it goes back (see RequestDone).
            _yieldLease = leaseId;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task Close(string socketId)
    {
        if (_socketId is not null && socketId != _socketId)
        {
            return; // a later socket took the agent over; this close is about an old one
        }

        _observer = null;
        _socketId = null;
        DelayDeactivation(TimeSpan.FromSeconds(-1));
        if (_anonymous || _dedup.IsEmpty)
        {
            // No socket can name this agent again, so its de-duplication window can never answer anything: it goes now,
            // not after its collection age (a client reconnecting without an id would otherwise leave one per socket).
            // A named agent stays while its window holds answers for a client that reconnects with the same id, and not
            // longer (PruneAsync).
            DeactivateOnIdle();
        }

        if (_lease is { } lease)
        {
            await DropLeaseAsync(lease, connectionFailed: false);
        }
    }

    /// <summary>
    /// The reply for a call to the connection grain that threw: a timeout was sent and may still be answered upstream;
    /// anything else means the connection grain could not be reached, and the request may go on another connection.
    /// </summary>
    private ConnectionReply FailedReply(Exception e, AgentLease lease, string? id)
    {
        if (e is TimeoutException)
        {
            return new ConnectionReply(id is null ? null : JsonRpcErrors.Timeout(id, TimeSpan.Zero), Sent: true, ConnectionFailed: false, Answered: false);
        }

        LogSendFailed(_logger, _key, lease.ConnectionKey, e);
        return new ConnectionReply(JsonRpcErrors.UpstreamFailed(id, _poolName!, "connection unreachable"), Sent: false, ConnectionFailed: true, Answered: false);
    }

    /// <summary>The session's connection is gone (<paramref name="cause"/>, logged): the client socket is closed with 1011 and <paramref name="reason"/>.</summary>
    private void SessionLost(string cause, string reason)
    {
        LogSessionLost(_logger, _key, cause);
        _observer?.OnClosed(1011, reason);
    }

    /// <summary>A request is no longer in flight: the lease goes back if the pool asked for it, or once the agent is idle.</summary>
    private void RequestDone()
    {
        _inFlight--;
        _lastActivity = _time.GetUtcNow();
        if (_inFlight == 0 && !SessionMode)
        {
            if (_lease is { } held && held.Id == _yieldLease)
            {
                _ = DropLeaseAsync(held, connectionFailed: false);
            }
            else
            {
                ScheduleIdleRelease();
            }
        }
    }

    private async Task<(AgentLease? Lease, string? Error)> EnsureLeaseAsync(string? id)
    {
        LeaseResult result;
        var attempt = 0;
        while (true)
        {
            if (_lease is { } held)
            {
                return (held, null);
            }

            // Concurrent requests share one acquisition.
            var acquiring = _acquiring ??= AcquireAsync();
            try
            {
                result = await acquiring;
            }
            finally
            {
                if (ReferenceEquals(_acquiring, acquiring))
                {
                    _acquiring = null;
                }
            }

            if (_lease is { } granted)
            {
                return (granted, null);
            }

            // Granted, then gone before this request resumed (its connection failed under another request): ask again.
            if (!result.Granted || ++attempt == 3)
            {
                break;
            }
        }

        var error = result.ErrorCode switch
        {
            JsonRpcErrorCodes.PoolExhausted => JsonRpcErrors.PoolExhausted(id, _poolName!, TimeSpan.FromMilliseconds(result.WaitedMs)),
            JsonRpcErrorCodes.CircuitOpen => JsonRpcErrors.CircuitOpen(id, _poolName!, TimeSpan.FromMilliseconds(result.RetryAfterMs)),
            _ => JsonRpcErrors.Create(id, result.ErrorCode == 0 ? JsonRpcErrorCodes.InternalError : result.ErrorCode, result.ErrorMessage ?? "The lease was lost before it could be used; retry"),
        };
        return (null, error);
    }

    private async Task<LeaseResult> AcquireAsync()
    {
        var result = await _pool!.Acquire(new LeaseRequest(_key, GrainFactory.GetGrain<IAgentGrain>(_key)));
        if (result.Granted)
        {
            var lease = new AgentLease(result.LeaseId!, result.Connection!, GrainFactory.GetGrain<IConnectionGrain>(result.Connection!));
            _lease = lease;
            StartLeaseTimer();
            _lastRenew = _time.GetUtcNow();
            _lastActivity = _lastRenew;
            if (SessionMode && _observer is { } observer)
            {
                await lease.Connection.AttachSession(observer);
            }
        }

        return result;
    }

    private async Task DropLeaseAsync(AgentLease lease, bool connectionFailed)
    {
        if (!ReferenceEquals(_lease, lease))
        {
            return;
        }

        _lease = null;
        _leaseTimer?.Dispose();
        _leaseTimer = null;
        try
        {
            if (SessionMode)
            {
                await lease.Connection.AttachSession(null);
            }

            await _pool!.Release(lease.Id, connectionFailed);
        }
        catch (SiloUnavailableException e)
        {
            // Every agent meets this when its silo shuts down with the pool on it: expected, so no warning for each.
            LogReleaseUnreachable(_logger, _key, lease.Id, e.Message);
        }
        catch (Exception e)
        {
            LogReleaseFailed(_logger, _key, lease.Id, e);
        }
    }

    private async Task TickAsync()
    {
        var now = _time.GetUtcNow();
        if (_lease is { } lease && _terms is { } terms)
        {
            if (now - _lastRenew >= TimeSpan.FromMilliseconds(terms.LeaseTimeoutMs / 3.0) - TimeSpan.FromMilliseconds(1))
            {
                _lastRenew = now;
                var lost = await _pool!.Renew([lease.Id]);
                if (lost.Count > 0 && ReferenceEquals(_lease, lease))
                {
                    if (SessionMode)
                    {
                        SessionLost("lease not renewed", "session connection lost");
                    }

                    // Detaches a session from the connection; the release itself finds nothing at the pool.
                    await DropLeaseAsync(lease, connectionFailed: false);
                }
            }
        }
    }

    /// <summary>Forgets de-duplication entries past the window; runs only while some are remembered.</summary>
    private Task PruneAsync()
    {
        _dedup.Trim(_time.GetUtcNow());
        if (_dedup.IsEmpty)
        {
            _pruneTimer?.Dispose();
            _pruneTimer = null;
            if (_socketId is null)
            {
                // Closed, and nothing left to answer a reconnecting client with: it goes now rather than after its collection
                // age (15 min by default), so that clients naming a new agent per connection leave an activation for the
                // window (300 s), not for the collection age.
                DeactivateOnIdle();
            }
        }

        return Task.CompletedTask;
    }

    private void ScheduleIdleRelease()
    {
        // One pending check per agent, not one timer per request: it re-arms itself while traffic goes on.
        if (_idleCheckPending || _lease is null)
        {
            return;
        }

        _idleCheckPending = true;
        _ = ReleaseWhenIdleAsync();
    }

    private async Task ReleaseWhenIdleAsync()
    {
        try
        {
            while (true)
            {
                var remaining = _lastActivity + IdleRelease - _time.GetUtcNow();
                if (remaining <= TimeSpan.Zero)
                {
                    break;
                }

                await Task.Delay(remaining, _time);
                if (_inFlight > 0)
                {
                    return;
                }
            }

            if (_inFlight == 0 && _lease is { } lease)
            {
                await DropLeaseAsync(lease, connectionFailed: false);
            }
        }
        catch (Exception e)
        {
            LogReleaseFailed(_logger, _key, "idle", e);
        }
        finally
        {
            _idleCheckPending = false;
        }
    }

    private void StartLeaseTimer()
    {
        // Runs only while a lease is held, to renew it.
        var renew = _terms!.Value.LeaseTimeoutMs / 3;
        var period = TimeSpan.FromMilliseconds(Math.Max(20, renew));
        _leaseTimer?.Dispose();
        _leaseTimer = RegisterGrainTimer(_ => TickAsync(), new GrainTimerCreationOptions(period, period) { Interleave = true });
    }

    /// <summary>The parts of <see cref="PoolInfo"/> an agent acts on, kept inline in the grain.</summary>
    private readonly record struct PoolTerms(bool Configured, bool SessionMode, long LeaseTimeoutMs, long LeaseIdleReleaseMs)
    {
        public static PoolTerms From(PoolInfo info) => new(info.Configured, info.Mode == "session", info.LeaseTimeoutMs, info.LeaseIdleReleaseMs);
    }
}
