using Conduit.Grains.Connections;
using Conduit.Grains.Health;
using Conduit.Grains.LoadBalancing;
using Conduit.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Grains.Pools;

/// <summary>
/// The control plane of one pool (key = pool name): connection grains between min and max, leases
/// and their FIFO queue, scaling and pre-warming, TTL and rotation by draining, health aggregation
/// and the pool's circuit breaker. Reentrant so that waiting acquirers do not block releases; all
/// book-keeping happens between awaits, in turns. Requests do not pass through it.
/// </summary>
[Reentrant]
internal sealed partial class PoolGrain : Grain, IPoolGrain
{
    private readonly IOptionsMonitor<PoolOptions> _optionsMonitor;
    private readonly PoolCatalog _catalog;
    private readonly TimeProvider _time;
    private readonly IClusterStatus _cluster;
    private readonly ILogger<PoolGrain> _logger;
    private readonly Random _random;
    private readonly Dictionary<string, PoolConnection> _connections = new(StringComparer.Ordinal);
    private readonly RecentKeys _closed = new(1024); // connections seen closed lately: a late report may not bring one back
    private readonly Dictionary<string, PoolLease> _leases = new(StringComparer.Ordinal);
    private readonly LinkedList<PoolWaiter> _waiters = new();
    private readonly Queue<PoolLease> _yieldCandidates = new();
    private readonly Dictionary<Task, (string What, long Started)> _background = [];
    private readonly List<PoolConnection> _openScratch = [];
    private readonly List<ConnectionCandidate> _candidateScratch = [];
    private string _name = string.Empty;
    private bool _configured;
    private PoolOptions _options = new();
    private ILoadBalancingPolicy _policy = new LeastConnectionsPolicy();
    private CircuitBreaker _breaker = null!;
    private DemandForecast _forecast = null!;
    private IGrainTimer? _timer;
    private int _nextNumber;
    private long _nextLease;
    private PoolRecycleCounts _recycled = PoolRecycleCounts.None; // immutable: GetInfo hands it out as it is
    private string _leasePrefix = string.Empty; // "{pool}#{activation}.": lease ids of an earlier activation never match this one's
    private int _yieldsOutstanding;

    public PoolGrain(IOptionsMonitor<PoolOptions> optionsMonitor, PoolCatalog catalog, TimeProvider time, PoolRandomness randomness, IClusterStatus cluster, ILogger<PoolGrain> logger)
    {
        _optionsMonitor = optionsMonitor;
        _cluster = cluster;
        _random = randomness.Create();
        _catalog = catalog;
        _time = time;
        _logger = logger;
    }

    private int CapacityPerConnection => _options.Mode == PoolMode.Session ? 1 : _options.MaxInFlightPerConnection;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _name = GetPrimaryKeyString();
        _leasePrefix = $"{_name}#{Guid.NewGuid().ToString("N")[..8]}.";
        _configured = _catalog.IsConfigured(_name);
        if (!_configured)
        {
            return Task.CompletedTask;
        }

        _options = _optionsMonitor.Get(_name);
        _policy = LoadBalancingPolicies.Create(_options.LoadBalancing, _random);
        _breaker = new CircuitBreaker(_options, _time);
        _forecast = new DemandForecast(_options.DemandSmoothing, _options.PreWarmHeadroom);
        _timer = RegisterGrainTimer(
            _ => MaintainAsync(),
            new GrainTimerCreationOptions(_options.MaintenanceInterval, _options.MaintenanceInterval) { Interleave = true, KeepAlive = true });

        // A configured pool holds the books of its connections and leases: never collected for idleness.
        DelayDeactivation(TimeSpan.MaxValue);
        EnsureCapacity();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        FailWaiters(w => Exhausted(w, "pool deactivated"));
        // Background work (connections being opened, reports asked for) is given a moment to end. Not long when the silo
        // stops: then that work calls grains that are leaving too, calls to this pool wait in its queue until this
        // deactivation ends, and a 5 s wait held whole-cluster stops for the silos' shutdown timeout.
        var wait = reason.Code == DeactivationReasonCode.ShuttingDown ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);
        await Task.WhenAll(_background.Keys.ToArray()).WaitAsync(wait, _time, CancellationToken.None).ContinueWith(static _ => { }, TaskScheduler.Default);
        if (_background.Count > 0)
        {
            var unfinished = string.Join(", ", _background.Values.Select(b => $"{b.What} ({_time.GetElapsedTime(b.Started).TotalSeconds:F1} s)"));
            LogBackgroundUnfinished(_logger, _name, reason.Code, wait, unfinished);
        }
    }

    /// <inheritdoc />
    public Task<PoolInfo> GetInfo()
    {
        if (!_configured)
        {
            return Task.FromResult(new PoolInfo(_name, false, string.Empty, "unknown", 0, 0, 0, 0, 0, "Closed", 0, 0));
        }

        var usable = _connections.Values.Count(c => c.Usable);
        var unhealthy = _connections.Values.Count(c => !c.Usable);
        var status = _breaker.IsRejecting || usable == 0 ? "unavailable" : unhealthy > 0 || _waiters.Count > 0 ? "degraded" : "healthy";
        return Task.FromResult(new PoolInfo(
            _name,
            true,
            _options.Mode == PoolMode.Session ? "session" : "request",
            status,
            _connections.Count,
            usable,
            _leases.Count,
            usable * CapacityPerConnection,
            _waiters.Count,
            _breaker.DisplayState,
            (long)_options.LeaseTimeout.TotalMilliseconds,
            (long)_options.LeaseIdleRelease.TotalMilliseconds,
            _nextLease,
            _options.SubProtocol,
            _recycled));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ConnectionReport>> GetConnections()
        => Task.FromResult<IReadOnlyList<ConnectionReport>>(_connections.Values.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Last).ToList());

    /// <inheritdoc />
    public async Task<LeaseResult> Acquire(LeaseRequest request)
    {
        if (!_configured)
        {
            return new LeaseResult(null, null, JsonRpcErrorCodes.InternalError, $"Pool '{_name}' is not configured", 0, 0);
        }

        if (_breaker.IsRejecting)
        {
            return CircuitOpen();
        }

        if (_waiters.Count == 0 && TryGrant(request) is { } granted)
        {
            return granted;
        }

        if (_waiters.Count >= _options.MaxWaiters)
        {
            return new LeaseResult(null, null, JsonRpcErrorCodes.PoolExhausted, "Pool exhausted: the wait queue is full", 0, 0);
        }

        var waiter = new PoolWaiter(request, _time.GetTimestamp());
        var node = _waiters.AddLast(waiter);
        EnsureCapacity();
        AskHoldersToYield();
        try
        {
            return await waiter.Completion.Task.WaitAsync(_options.AcquireTimeout, _time);
        }
        catch (TimeoutException)
        {
            if (waiter.Completion.Task.IsCompletedSuccessfully)
            {
                return waiter.Completion.Task.Result;
            }

            if (node.List is not null)
            {
                _waiters.Remove(node);
            }

            return Exhausted(waiter, "no connection became free within AcquireTimeout");
        }
    }

    /// <inheritdoc />
    public Task Release(string leaseId, bool connectionFailed)
    {
        if (_leases.TryGetValue(leaseId, out var lease) && ForgetLease(lease) && _connections.TryGetValue(lease.Connection, out var connection))
        {
            EndLease(connection, RecycleReason.SessionEnded, "session ended");
            if (connectionFailed && !connection.Draining && connection.Last.State is not (ConnectionState.Failed or ConnectionState.Closed))
            {
                // Until the connection reports again, do not hand it out.
                connection.Last = connection.Last with { State = ConnectionState.Failed };
                RevokeLeases(connection);
                _ = TrackAsync(RefreshAsync(connection.Key), "refresh " + connection.Key);
            }
        }

        ServeWaiters();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> Renew(IReadOnlyList<string> leaseIds)
    {
        var now = _time.GetUtcNow();
        var lost = new List<string>();
        foreach (var id in leaseIds)
        {
            if (_leases.TryGetValue(id, out var lease))
            {
                lease.RenewedAt = now;
            }
            else
            {
                lost.Add(id);
            }
        }

        return Task.FromResult<IReadOnlyList<string>>(lost);
    }

    /// <inheritdoc />
    public async Task Report(ConnectionReport report)
    {
        if (!_configured)
        {
            return;
        }

        if (!_connections.TryGetValue(report.Connection, out var connection))
        {
            if (report.State == ConnectionState.Closed)
            {
                return;
            }

            if (_closed.Contains(report.Connection) || _connections.Count >= _options.MaxConnections || !report.Connection.StartsWith(_name + "/", StringComparison.Ordinal))
            {
                _ = TrackAsync(GrainFactory.GetGrain<IConnectionGrain>(report.Connection).Drain(), "drain " + report.Connection);
                return;
            }

            // A connection from before this activation (the pool moved or restarted): adopt it.
            connection = new PoolConnection(report.Connection, report) { IdleSince = _time.GetUtcNow() };
            _connections[report.Connection] = connection;
        }

        if (report.ConnectAttempt is { } succeeded)
        {
            var wasRejecting = _breaker.IsRejecting;
            await _breaker.RecordAsync(succeeded);
            if (!wasRejecting && _breaker.IsRejecting)
            {
                LogBreakerOpened(_logger, _name, _options.BreakDuration);
                FailWaiters(_ => CircuitOpen());
            }
        }

        Apply(connection, report);
        ServeWaiters();
        EnsureCapacity();
        DrainRetired();
    }

    private void Apply(PoolConnection connection, ConnectionReport report)
    {
        var before = connection.Last;
        connection.Last = report;
        switch (report.State)
        {
            case ConnectionState.Closed:
                RevokeLeases(connection);
                _connections.Remove(connection.Key);
                _closed.Add(connection.Key);
                return;
            case ConnectionState.Failed:
                RevokeLeases(connection);
                connection.ExpiresAt = null;
                return;
            case ConnectionState.Recycling when !connection.Draining:
                // Told to drain by an earlier activation of this pool (it moved or restarted): retiring all the same,
                // so it is replaced rather than counted as live.
                connection.Draining = true;
                RevokeLeases(connection);
                return;
            case ConnectionState.Ready or ConnectionState.Active or ConnectionState.Idle when connection.ExpiresAt is null:
                connection.ExpiresAt = _time.GetUtcNow() + Jitter.Ttl(_options.ConnectionTtl, _options.TtlJitter, _random);
                connection.IdleSince ??= _time.GetUtcNow();
                break;
        }

        if (connection.Inherited is { } inherited && !report.SessionAttached)
        {
            // That session ended (its agent learnt its lease was gone and detached); if the booking was not reclaimed
            // meanwhile, it ends now, and the connection is recycled like any session's.
            connection.Inherited = null;
            if (ForgetLease(inherited))
            {
                EndLease(connection, RecycleReason.SessionEnded, "session from before ended");
            }
        }
        else if (_options.Mode == PoolMode.Session && report.SessionAttached && !connection.Granted && connection.Leases == 0)
        {
            // A session this activation did not grant: an agent took it from an earlier activation of this pool (it moved
            // or restarted, and its books went with it). Handed to another agent, that agent's client would get the other
            // session's messages. It is booked to an unknown holder instead: the agent learns at its next renewal that its
            // lease is gone, ends its session and detaches, which its connection reports (above); should that report be
            // lost, nobody renews this booking and it is reclaimed after LeaseTimeout.
            connection.Inherited = Book(connection, "(a session from before this pool activation)", agent: null);
            LogSessionFromBefore(_logger, _name, connection.Key, _options.LeaseTimeout);
        }

        if (before.Health != report.Health)
        {
            LogHealthChanged(_logger, _name, connection.Key, before.Health, report.Health);
        }

        if (report.Health == ConnectionHealth.Unhealthy || report.State == ConnectionState.Unhealthy)
        {
            Recycle(connection, RecycleReason.Unhealthy, "unhealthy");
        }
        else if ((connection.RotationDue |= report.RotationDue) && CanRetire(connection) && MayRetireRoutinely)
        {
            // One due while the pool cannot open connections, or that carries a session, waits for a later maintenance.
            Retire(connection, RecycleReason.Rotation, $"rotation after {report.Requests} requests");
        }
    }

    private LeaseResult? TryGrant(LeaseRequest request)
    {
        var capacity = CapacityPerConnection;
        var open = _openScratch;
        var candidates = _candidateScratch;
        open.Clear();
        candidates.Clear();
        foreach (var connection in _connections.Values)
        {
            // A session must not start on a connection that drains once its replacement is up.
            if (connection.Usable && connection.Leases < capacity && (connection.Retirement is null || _options.Mode == PoolMode.Request))
            {
                open.Add(connection);
                candidates.Add(new ConnectionCandidate(connection.Leases, capacity, connection.Last.Health, TimeSpan.FromMilliseconds(connection.Last.LatencyMs)));
            }
        }

        var index = _policy.Pick(candidates);
        if (index < 0)
        {
            return null;
        }

        var chosen = open[index];
        var lease = Book(chosen, request.Holder, request.Agent);
        if (lease.Agent is not null && _options.Mode == PoolMode.Request)
        {
            _yieldCandidates.Enqueue(lease);
        }

        return new LeaseResult(lease.Id, chosen.Key, 0, null, 0, 0);
    }

    /// <summary>Books a new lease of this activation on <paramref name="connection"/>.</summary>
    private PoolLease Book(PoolConnection connection, string holder, IAgentGrain? agent)
    {
        var lease = new PoolLease($"{_leasePrefix}{++_nextLease}", holder, agent, connection.Key, _time.GetUtcNow());
        _leases[lease.Id] = lease;
        connection.Leases++;
        connection.Granted = true;
        connection.IdleSince = null;
        return lease;
    }

    /// <summary>Removes a lease; false if it was not held.</summary>
    private bool ForgetLease(PoolLease lease)
    {
        if (!_leases.Remove(lease.Id))
        {
            return false;
        }

        if (lease.YieldAsked)
        {
            _yieldsOutstanding--;
        }

        return true;
    }

    /// <summary>
    /// Request mode: an agent keeps its lease while it is busy, so without this an oversubscribed pool would serve its
    /// waiters only when a holder happens to fall idle, and a steady client could hold its slot for ever. For every
    /// waiter one holder is asked to give its lease back at its next idle moment, oldest grant first; it then queues
    /// behind the waiters for its next request, so the pool's slots go round in turn.
    /// </summary>
    private void AskHoldersToYield()
    {
        while (_yieldsOutstanding < _waiters.Count && _yieldCandidates.TryDequeue(out var lease))
        {
            if (!_leases.ContainsKey(lease.Id))
            {
                continue; // ended before its turn came
            }

            lease.YieldAsked = true;
            _yieldsOutstanding++;
            LogYieldAsked(_logger, _name, lease.Id, lease.Holder, _waiters.Count);
            try
            {
                // One-way: the pool does not wait for the agent (if the call is lost, that holder keeps its lease as before).
                _ = lease.Agent!.YieldLease(lease.Id);
            }
            catch (Exception e)
            {
                LogBackgroundFailed(_logger, _name, e);
            }
        }

        // Grants that ended without being asked stay queued until they come up; keep the queue near the live leases.
        if (_yieldCandidates.Count > (2 * _leases.Count) + 64)
        {
            var live = _yieldCandidates.Where(l => _leases.ContainsKey(l.Id)).ToList();
            _yieldCandidates.Clear();
            foreach (var lease in live)
            {
                _yieldCandidates.Enqueue(lease);
            }
        }
    }

    private void ServeWaiters()
    {
        while (_waiters.First is { } first)
        {
            if (first.Value.Completion.Task.IsCompleted)
            {
                _waiters.RemoveFirst();
                continue;
            }

            if (TryGrant(first.Value.Request) is not { } granted)
            {
                return;
            }

            _waiters.RemoveFirst();
            var waited = (long)_time.GetElapsedTime(first.Value.EnqueuedAt).TotalMilliseconds;
            first.Value.Completion.TrySetResult(granted with { WaitedMs = waited });
        }
    }

    private void FailWaiters(Func<PoolWaiter, LeaseResult> result)
    {
        while (_waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            first.Value.Completion.TrySetResult(result(first.Value));
        }
    }

    private LeaseResult Exhausted(PoolWaiter waiter, string why)
        => new(null, null, JsonRpcErrorCodes.PoolExhausted, $"Pool exhausted: {why}", (long)_time.GetElapsedTime(waiter.EnqueuedAt).TotalMilliseconds, 0);

    private LeaseResult CircuitOpen()
        => new(null, null, JsonRpcErrorCodes.CircuitOpen, "Circuit open", 0, (long)Math.Ceiling(_breaker.RetryAfter.TotalMilliseconds));
}
