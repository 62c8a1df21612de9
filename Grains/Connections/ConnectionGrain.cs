using Conduit.Grains.Health;
using Conduit.Grains.JsonRpc;
using Conduit.Grains.Pools;
using Conduit.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Grains.Connections;

/// <summary>
/// One upstream socket of a pool (key "{pool}/{n}"). Reentrant, so many requests are in flight at
/// once; agents holding a lease call <see cref="Send"/> directly. It reconnects by itself with
/// backoff after a failure, checks its health on a timer and reports to its pool grain. The socket is
/// process state: if this activation moves, the new one opens a new socket.
/// </summary>
[Reentrant]
internal sealed partial class ConnectionGrain : Grain, IConnectionGrain
{
    private const string Drained = "drained"; // the reason a drain closes with when its requests finished

    private readonly IOptionsMonitor<PoolOptions> _optionsMonitor;
    private readonly PoolCatalog _catalog;
    private readonly TimeProvider _time;
    private readonly ILogger<ConnectionGrain> _logger;
    private readonly Random _random;
    private string _key = string.Empty;
    private string _poolName = string.Empty;
    private PoolOptions _options = new();
    private HealthTracker _health = null!;
    private LatencyHistory _history = new();
    private CircuitBreaker _breaker = null!;
    private IPoolGrain _pool = null!;
    private IConnectionGrain _self = null!;
    private UpstreamConnection? _socket;
    private ConnectionState _state = ConnectionState.Initializing;
    private long _generation;
    private int _reconnectAttempt;
    private bool _rotationReported;
    private bool _served;
    private Task<ConnectionReport>? _opening;
    private IGrainTimer? _healthTimer;
    private IGrainTimer? _reconnectTimer;
    private IGrainTimer? _drainDeadline;
    private IAgentObserver? _observer;

    public ConnectionGrain(IOptionsMonitor<PoolOptions> optionsMonitor, PoolCatalog catalog, TimeProvider time, PoolRandomness randomness, ILogger<ConnectionGrain> logger)
    {
        _optionsMonitor = optionsMonitor;
        _random = randomness.Create();
        _catalog = catalog;
        _time = time;
        _logger = logger;
    }

    private bool IsOpen => _state is ConnectionState.Ready or ConnectionState.Unhealthy && _socket is { IsOpen: true };

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = GetPrimaryKeyString();
        var slash = _key.LastIndexOf('/');
        _poolName = slash > 0 ? _key[..slash] : _key;
        if (!_catalog.IsConfigured(_poolName))
        {
            throw new InvalidOperationException($"Connection '{_key}' belongs to pool '{_poolName}', which is not configured.");
        }

        _options = _optionsMonitor.Get(_poolName);
        _health = new HealthTracker(_options.HealthyLatency, _options.DegradedLatency, _options.FailureThreshold, _options.SuccessThreshold);
        _breaker = new CircuitBreaker(_options, _time);
        _pool = GrainFactory.GetGrain<IPoolGrain>(_poolName);
        _self = GrainFactory.GetGrain<IConnectionGrain>(_key);

        // Until its pool opens it (Open cancels this), the activation goes once idle: one that a late call activated after
        // the connection closed (an agent's request on a lease from before a rotation or TTL, a report asked for) has no
        // socket and nothing to keep, and stayed for the collection age (under rotation, most retired connections had one).
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        DisposeTimers();
        _state = ConnectionState.Closed;
        if (_socket is { } socket)
        {
            _socket = null;
            await socket.CloseAsync("connection grain deactivated", TimeSpan.FromSeconds(2));

            // A session on it ends here (its silo is stopping): its client must know now, not at its next request, which
            // a client that only listens for notifications may never send.
            Volatile.Read(ref _observer)?.OnClosed(1011, "session lost: its upstream connection closed");
        }
    }

    /// <inheritdoc />
    public async Task<ConnectionReport> Open()
    {
        if (IsOpen)
        {
            return Report();
        }

        // From the pool's Open until closed, the socket (or its reconnection) is this activation's: idle collection must
        // not close a warm connection, whatever the health check interval is against the collection age.
        DelayDeactivation(TimeSpan.MaxValue);

        if (_opening is { } pending)
        {
            return await pending;
        }

        _opening = ConnectAsync();
        try
        {
            return await _opening;
        }
        finally
        {
            _opening = null;
        }
    }

    /// <inheritdoc />
    public async Task<ConnectionReply> Send(byte[] utf8)
    {
        if (!JsonRpcEnvelope.TryParse(utf8, out var envelope) || !envelope.IsObject)
        {
            return new ConnectionReply(JsonRpcErrors.Create(null, JsonRpcErrorCodes.InvalidRequest, "Invalid Request"), Sent: false, ConnectionFailed: false, Answered: false);
        }

        if (!IsOpen || _socket is not { } socket)
        {
            var retired = _state is ConnectionState.Recycling or ConnectionState.Closed;
            return new ConnectionReply(JsonRpcErrors.UpstreamFailed(envelope.IdJson(utf8), _poolName, $"connection {_state}"), Sent: false, ConnectionFailed: true, Answered: false, Retired: retired);
        }

        if (_breaker.IsRejecting)
        {
            return new ConnectionReply(JsonRpcErrors.CircuitOpen(envelope.IdJson(utf8), _poolName, _breaker.RetryAfter), Sent: false, ConnectionFailed: true, Answered: false);
        }

        _served = true;
        var reply = await socket.SendAsync(utf8, envelope, _options.RequestTimeout);
        // The breaker counts answers and timeouts; a dead socket counts once (in SocketClosed), not
        // once per request that was in flight on it.
        if (reply.Outcome is UpstreamOutcome.Answered or UpstreamOutcome.TimedOut)
        {
            var wasRejecting = _breaker.IsRejecting;
            await _breaker.RecordAsync(reply.Outcome == UpstreamOutcome.Answered);
            if (!wasRejecting && _breaker.IsRejecting && _state == ConnectionState.Ready)
            {
                LogBreakerOpened(_logger, _key, _options.BreakDuration);
                _state = ConnectionState.Unhealthy;
                _ = ReportToPoolAsync(Report());
            }
        }

        if (!_rotationReported && socket.RequestsSent >= _options.MaxRequestsPerConnection)
        {
            _rotationReported = true;
            LogRotationDue(_logger, _key, socket.RequestsSent);
            _ = ReportToPoolAsync(Report(rotationDue: true));
        }

        if (_state == ConnectionState.Recycling && socket.InFlight == 0)
        {
            await FinishDrainAsync(Drained);
        }

        var failed = reply.Outcome is UpstreamOutcome.Failed or UpstreamOutcome.NotSent;
        var answered = reply.Outcome is UpstreamOutcome.Answered or UpstreamOutcome.Sent;
        // Numbers matter to a session only: without one the gateway has no pushes to order.
        var sequence = Volatile.Read(ref _observer) is null ? 0 : reply.Sequence;
        return new ConnectionReply(reply.Response, Sent: reply.Outcome != UpstreamOutcome.NotSent, ConnectionFailed: failed, Answered: answered, sequence);
    }

    /// <inheritdoc />
    public Task AttachSession(IAgentObserver? observer)
    {
        var before = Interlocked.Exchange(ref _observer, observer);
        if (observer is not null)
        {
            _socket?.StartSequence(); // a socket opened later numbers from 1 anyway
        }
        else if (before is not null)
        {
            // The pool learns at once that the session ended. It needs to when it booked the session without granting it
            // (it was activated again meanwhile): the agent's release names a lease of the earlier activation, which this
            // one does not know, so until this report the connection stayed booked for up to LeaseTimeout.
            _ = ReportToPoolAsync(Report());
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task Drain()
    {
        if (_state is ConnectionState.Closed or ConnectionState.Recycling)
        {
            return;
        }

        _state = ConnectionState.Recycling;
        _reconnectTimer?.Dispose();
        _reconnectTimer = null;
        if (_socket is not { } socket || !socket.IsOpen || socket.InFlight == 0)
        {
            await FinishDrainAsync(Drained);
            return;
        }

        // Requests in flight finish (each is bounded by RequestTimeout); this deadline only guards
        // against a close that never comes.
        _drainDeadline = RegisterGrainTimer(
            _ => FinishDrainAsync("drain deadline"),
            new GrainTimerCreationOptions(_options.RequestTimeout + TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
    }

    /// <inheritdoc />
    public Task<ConnectionReport> GetReport() => Task.FromResult(Report());

    /// <inheritdoc />
    public async Task SocketClosed(long generation, string reason)
    {
        if (generation != _generation)
        {
            return;
        }

        if (_state == ConnectionState.Recycling)
        {
            await FinishDrainAsync(reason);
            return;
        }

        if (_state is ConnectionState.Closed or ConnectionState.Failed)
        {
            return;
        }

        LogSocketLost(_logger, _key, reason);
        _state = ConnectionState.Failed;
        if (_socket is { } socket)
        {
            _socket = null;
            await socket.DisposeAsync();
        }

        await _breaker.RecordAsync(false);
        Volatile.Read(ref _observer)?.OnClosed(1011, "upstream connection lost");
        await ReportToPoolAsync(Report());
        ScheduleReconnect();
    }

    private async Task<ConnectionReport> ConnectAsync()
    {
        _state = ConnectionState.Initializing;
        var generation = ++_generation;
        var socket = new UpstreamConnection(_poolName, _time, _logger, OnUnsolicited, reason => OnSocketEnded(generation, reason), _options.MaxMessageBytes);
        try
        {
            await socket.ConnectAsync(new Uri(_options.Url!), _options.ConnectTimeout, _options.HealthCheckInterval, _options.HealthCheckTimeout, CancellationToken.None, _options.SubProtocol);
        }
        catch (Exception e)
        {
            await socket.DisposeAsync();
            if (DrainedWhileConnecting(generation))
            {
                return Report();
            }

            _state = ConnectionState.Failed;
            LogConnectFailed(_logger, _key, _reconnectAttempt, e.Message);
            ScheduleReconnect();
            return Report(connectAttempt: false);
        }

        if (DrainedWhileConnecting(generation))
        {
            // The handshake finished after a drain closed this connection (the grain is reentrant): the pool has
            // forgotten it, so it must not come back as Ready, and the new socket is not wanted.
            await socket.CloseAsync("drained while connecting", TimeSpan.FromSeconds(2));
            return Report();
        }

        _socket = socket;
        _state = ConnectionState.Ready;
        _health.Reset();
        _history = new LatencyHistory();

        // A pool opens connections all the time (rotation, TTL, scaling): routine, at Debug. One that comes back after
        // failing (its loss and its failed attempts were warnings) is news.
        var level = _reconnectAttempt > 0 ? LogLevel.Information : LogLevel.Debug;
        _reconnectAttempt = 0;
        _rotationReported = false;
        _served = false;
        _healthTimer ??= RegisterGrainTimer(
            _ => CheckHealthAsync(),
            new GrainTimerCreationOptions(_options.HealthCheckInterval, _options.HealthCheckInterval) { Interleave = true, KeepAlive = true });
        LogConnected(_logger, level, _key);
        return Report(connectAttempt: true);
    }

    private bool DrainedWhileConnecting(long generation) => _state != ConnectionState.Initializing || generation != _generation;

    private void ScheduleReconnect()
    {
        if (_state != ConnectionState.Failed)
        {
            return;
        }

        // Connect attempts go to the pool's breaker (through the report); this connection's own
        // breaker guards requests, so it does not hold reconnects back.
        var delay = Jitter.Backoff(_reconnectAttempt++, _options.ReconnectBaseDelay, _options.ReconnectMaxDelay, _random);
        _reconnectTimer?.Dispose();
        _reconnectTimer = RegisterGrainTimer(
            _ => ReconnectAsync(),
            new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { Interleave = true, KeepAlive = true });
    }

    private async Task ReconnectAsync()
    {
        if (_state != ConnectionState.Failed)
        {
            return;
        }

        var report = await Open();
        await ReportToPoolAsync(report);
    }

    private async Task CheckHealthAsync()
    {
        if (!IsOpen || _socket is not { } socket)
        {
            return;
        }

        var sample = _options.HealthCheckMethod is { } method
            ? await socket.ProbeAsync(method, _options.HealthCheckTimeout)
            : socket.TakeLatencySample();
        if (sample is null && _options.HealthCheckMethod is null)
        {
            // Passive checks without traffic have nothing to measure; the WebSocket keep-alive
            // (ping every HealthCheckInterval, dead after HealthCheckTimeout) guards liveness.
            await ReportToPoolAsync(Report());
            return;
        }

        if (sample is { } latency)
        {
            _history.Add(latency);
        }

        var before = _health.Health;
        if (_health.Record(sample))
        {
            LogHealthChanged(_logger, _key, before, _health.Health, sample?.TotalMilliseconds ?? -1, _history.Trend);
        }

        if (_state is ConnectionState.Ready or ConnectionState.Unhealthy)
        {
            _state = _health.Health == ConnectionHealth.Unhealthy ? ConnectionState.Unhealthy : ConnectionState.Ready;
        }

        await ReportToPoolAsync(Report());
    }

    private async Task FinishDrainAsync(string reason)
    {
        if (_state == ConnectionState.Closed)
        {
            return;
        }

        _state = ConnectionState.Closed;
        DisposeTimers();
        if (_socket is { } socket)
        {
            _socket = null;
            await socket.CloseAsync(reason, TimeSpan.FromSeconds(2));
        }

        Volatile.Read(ref _observer)?.OnClosed(1011, "upstream connection recycled");
        LogClosed(_logger, reason == Drained ? LogLevel.Debug : LogLevel.Information, _key, reason); // a drain that ended as it should is routine
        await ReportToPoolAsync(Report());
        DelayDeactivation(TimeSpan.FromSeconds(-1));
        DeactivateOnIdle();
    }

    private void OnUnsolicited(string message, long sequence)
    {
        // Called on the socket's reader thread: only touch thread-safe state.
        Volatile.Read(ref _observer)?.OnUpstreamMessage(message, sequence);
    }

    private void OnSocketEnded(long generation, string reason)
    {
        // Called on a socket loop's thread: get a turn by calling ourselves.
        // While the silo shuts down the call is refused; the deactivation closes the socket anyway, so that is no failure.
        _self.SocketClosed(generation, reason).ContinueWith(
            t =>
            {
                if (t.Exception!.GetBaseException() is not SiloUnavailableException)
                {
                    LogSelfCallFailed(_logger, _key, t.Exception.GetBaseException());
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
    }

    private async Task ReportToPoolAsync(ConnectionReport report)
    {
        try
        {
            await _pool.Report(report);
        }
        catch (SiloUnavailableException e)
        {
            LogReportUnreachable(_logger, _key, e.Message); // its silo is shutting down (or gone): expected, not an error
        }
        catch (Exception e)
        {
            LogReportFailed(_logger, _key, e);
        }
    }

    private ConnectionReport Report(bool? connectAttempt = null, bool rotationDue = false)
    {
        var inFlight = _socket?.InFlight ?? 0;
        var state = _state switch
        {
            ConnectionState.Ready when inFlight > 0 => ConnectionState.Active,
            ConnectionState.Ready when _served => ConnectionState.Idle,
            _ => _state,
        };
        return new ConnectionReport(_key, state, _health.Health, _history.Trend, _history.Last.TotalMilliseconds, inFlight, _socket?.RequestsSent ?? 0, connectAttempt, rotationDue, Volatile.Read(ref _observer) is not null);
    }

    private void DisposeTimers()
    {
        _healthTimer?.Dispose();
        _healthTimer = null;
        _reconnectTimer?.Dispose();
        _reconnectTimer = null;
        _drainDeadline?.Dispose();
        _drainDeadline = null;
    }
}
