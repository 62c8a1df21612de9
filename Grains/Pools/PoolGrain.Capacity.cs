using Conduit.Grains.Connections;
using Conduit.Runtime;
using Microsoft.Extensions.Logging;

namespace Conduit.Grains.Pools;

/// <summary>The pool grain's connection management: opening, recycling, scaling, maintenance, and its log messages.</summary>
internal sealed partial class PoolGrain
{
    private void Unlease(PoolConnection connection)
    {
        connection.Leases = Math.Max(0, connection.Leases - 1);
        if (connection.Leases == 0)
        {
            connection.IdleSince = _time.GetUtcNow();
        }
    }

    /// <summary>
    /// A lease is over. In session mode its connection is not handed to the next session: the upstream may keep state
    /// for the one that ended (subscriptions that go on pushing, an initialized protocol session, a login), which would
    /// reach another agent, possibly another tenant's. So a session's connection is drained and closed, and capacity
    /// comes back as a fresh socket.
    /// </summary>
    private void EndLease(PoolConnection connection, RecycleReason reason, string detail)
    {
        Unlease(connection);
        if (_options.Mode == PoolMode.Session)
        {
            Recycle(connection, reason, detail);
        }
    }

    private void RevokeLeases(PoolConnection connection)
    {
        // Holders find out on their next send (the connection answers "not sent") or renewal.
        foreach (var lease in _leases.Values.Where(l => l.Connection == connection.Key).ToList())
        {
            ForgetLease(lease);
        }

        connection.Leases = 0;
        connection.IdleSince = _time.GetUtcNow();
    }

    /// <summary>
    /// Drains <paramref name="connection"/> for <paramref name="reason"/> (<paramref name="detail"/> says more in the log):
    /// counted by reason, and logged at Debug when it is routine (rotation, TTL, scale-down, a session's end: every
    /// second or so per connection on a busy pool), at Information when something went wrong.
    /// </summary>
    private void Recycle(PoolConnection connection, RecycleReason reason, string detail)
    {
        if (connection.Draining)
        {
            return;
        }

        _recycled = reason switch
        {
            RecycleReason.Rotation => _recycled with { Rotation = _recycled.Rotation + 1 },
            RecycleReason.Ttl => _recycled with { Ttl = _recycled.Ttl + 1 },
            RecycleReason.Idle => _recycled with { Idle = _recycled.Idle + 1 },
            RecycleReason.Unhealthy => _recycled with { Unhealthy = _recycled.Unhealthy + 1 },
            RecycleReason.SessionEnded => _recycled with { SessionEnded = _recycled.SessionEnded + 1 },
            RecycleReason.SessionReclaimed => _recycled with { SessionReclaimed = _recycled.SessionReclaimed + 1 },
            _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
        };
        var level = reason is RecycleReason.Unhealthy or RecycleReason.SessionReclaimed ? LogLevel.Information : LogLevel.Debug;
        LogRecycling(_logger, level, _name, connection.Key, detail);
        connection.Draining = true;
        RevokeLeases(connection);
        _ = TrackAsync(DrainAsync(connection.Key), "drain " + connection.Key);
    }

    /// <summary>
    /// Drains <paramref name="connection"/> for a routine <paramref name="reason"/> once a replacement is usable
    /// (<see cref="DrainRetired"/>): meanwhile it serves on, and <see cref="EnsureCapacity"/> no longer counts it as live.
    /// </summary>
    private void Retire(PoolConnection connection, RecycleReason reason, string detail)
    {
        if (!connection.Draining && connection.Retirement is null)
        {
            connection.Retirement = (reason, detail);
        }
    }

    /// <summary>
    /// Drains the connections due for retirement once their replacements are usable: nothing the pool opens is still
    /// under way, no call to open one has failed, and a connection that is not retiring can serve. At <c>MaxConnections</c>,
    /// with no room for a replacement, they drain at once, unless a connection is draining already: its close makes the
    /// room, and they serve on until the replacement opened there is usable. (Before, a connection that came due while the
    /// previous one was still draining its last requests was drained at once, and its agents waited for a handshake.)
    /// </summary>
    private void DrainRetired()
    {
        if (!_connections.Values.Any(c => c.Retirement is not null && !c.Draining))
        {
            return;
        }

        if (!MayRetireRoutinely)
        {
            return; // a replacement could not be opened: keep what serves until one can
        }

        var replacing = _connections.Values.Any(c => c.Retirement is null && !c.Draining && c.Last.State == ConnectionState.Initializing);
        var replaced = _connections.Values.Any(c => c.Retirement is null && c.Usable);
        var noRoom = _connections.Count >= _options.MaxConnections && !_connections.Values.Any(c => c.Draining);
        if (replacing || !(replaced || noRoom))
        {
            return;
        }

        foreach (var connection in _connections.Values.Where(c => c.Retirement is not null && !c.Draining).ToList())
        {
            var (reason, detail) = connection.Retirement!.Value;
            Recycle(connection, reason, detail);
        }
    }

    private async Task DrainAsync(string key)
    {
        await GrainFactory.GetGrain<IConnectionGrain>(key).Drain();
    }

    private async Task RefreshAsync(string key)
    {
        var report = await GrainFactory.GetGrain<IConnectionGrain>(key).GetReport();
        if (_connections.TryGetValue(key, out var connection))
        {
            Apply(connection, report);
            ServeWaiters();
        }
    }

    private void EnsureCapacity()
    {
        if (!_configured)
        {
            return;
        }

        var live = _connections.Values.Count(c => !c.Draining && c.Retirement is null);
        var needed = _options.PreWarming ? _forecast.ConnectionsNeeded(CapacityPerConnection, _options.MinConnections, _options.MaxConnections) : _options.MinConnections;
        var opening = _connections.Values.Count(c => c.Last.State == ConnectionState.Initializing);
        var demand = _leases.Count + _waiters.Count;
        var freeCapacity = _connections.Values.Where(c => c.Usable).Sum(c => CapacityPerConnection - c.Leases) + (opening * CapacityPerConnection);
        if (_waiters.Count > 0 && freeCapacity < _waiters.Count)
        {
            needed = Math.Max(needed, live + (int)Math.Ceiling((_waiters.Count - freeCapacity) / (double)CapacityPerConnection));
        }

        needed = Math.Max(needed, (int)Math.Ceiling(demand / (double)CapacityPerConnection));
        while (live < needed && _connections.Count < _options.MaxConnections)
        {
            StartOpen();
            live++;
        }
    }

    private void StartOpen()
    {
        string key;
        do
        {
            key = $"{_name}/{++_nextNumber}";
        }
        while (_connections.ContainsKey(key));

        var initial = new ConnectionReport(key, ConnectionState.Initializing, ConnectionHealth.Healthy, LatencyTrend.Stable, 0, 0, 0, null, false);
        var connection = new PoolConnection(key, initial) { IdleSince = _time.GetUtcNow() };
        _connections[key] = connection;
        Open(connection);
    }

    private void Open(PoolConnection connection)
    {
        connection.OpenPending = true;
        _ = TrackAsync(OpenAsync(connection), "open " + connection.Key);
    }

    private async Task OpenAsync(PoolConnection connection)
    {
        var key = connection.Key;
        ConnectionReport report;
        try
        {
            report = await GrainFactory.GetGrain<IConnectionGrain>(key).Open();
            if (connection.OpenFailures > 0)
            {
                LogOpenedAfterFailures(_logger, _name, key, connection.OpenFailures);
                connection.OpenFailures = 0;
            }
        }
        catch (Exception e)
        {
            // The call failed, not the upstream (a connection grain reports that itself, and reconnects with backoff): its
            // grain could not be reached or activated. Nobody reconnects or reports on it but this pool, which calls Open
            // again at each maintenance tick (before 2026-11-25 it stayed Failed for good, counted as live, and a pool
            // whose replacements failed during a Redis outage served nothing after Redis was back).
            if (++connection.OpenFailures == 1)
            {
                LogOpenFailed(_logger, _name, key, _options.MaintenanceInterval, e);
            }
            else
            {
                LogOpenFailedAgain(_logger, _name, key, connection.OpenFailures, e.Message);
            }

            // Not a connect attempt: the pool's breaker is about its upstream, and opening it here would refuse every acquire
            // while the connections that are open still serve.
            report = new ConnectionReport(key, ConnectionState.Failed, ConnectionHealth.Unhealthy, LatencyTrend.Stable, 0, 0, 0, ConnectAttempt: null, RotationDue: false);
        }
        finally
        {
            connection.OpenPending = false;
        }

        await Report(report);
    }

    /// <summary>
    /// Whether the pool may drain a working connection for a routine reason (rotation, TTL, scale-down): not while it
    /// cannot open connections (a call to open one failed), nor while this silo cannot read the membership table (Redis
    /// is down, so a connection grain could not be activated), since the replacement would fail and the pool would lose a
    /// connection that serves. In a Redis outage existing activations keep serving; so do the pool's connections. The
    /// second condition matters at <c>MaxConnections</c>, where a due connection drains before its replacement opens: the
    /// first failed open would come too late.
    /// </summary>
    private bool MayRetireRoutinely => !_connections.Values.Any(c => c.OpenFailures > 0) && _cluster.GetStatus().Store is not { Reachable: false };

    /// <summary>
    /// Whether <paramref name="connection"/> could be retired for a routine reason: it serves now, is not retiring already,
    /// and carries no session (a session lives on its connection, which is recycled when the session ends).
    /// </summary>
    private bool CanRetire(PoolConnection connection)
        => connection.Usable && connection.Retirement is null && (_options.Mode == PoolMode.Request || connection.Leases == 0);

    private async Task MaintainAsync()
    {
        var now = _time.GetUtcNow();
        if (_breaker.DisplayState == "HalfOpen" && _connections.Values.Any(c => c.Usable))
        {
            // The break is over and a connection is up: that is the half-open probe succeeding.
            await _breaker.RecordAsync(true);
        }

        foreach (var lease in _leases.Values.ToList())
        {
            if (now - lease.RenewedAt > _options.LeaseTimeout)
            {
                ForgetLease(lease);
                if (_connections.TryGetValue(lease.Connection, out var held))
                {
                    EndLease(held, RecycleReason.SessionReclaimed, "session lease reclaimed");
                }

                LogLeaseReclaimed(_logger, _name, lease.Id, lease.Holder, now - lease.RenewedAt);
            }
            else if (!lease.Warned && now - lease.GrantedAt > _options.LongLeaseWarning)
            {
                lease.Warned = true;
                LogLongLease(_logger, _name, lease.Id, lease.Holder, now - lease.GrantedAt);
            }
        }

        _forecast.Observe(_leases.Count + _waiters.Count);
        var needed = _options.PreWarming ? _forecast.ConnectionsNeeded(CapacityPerConnection, _options.MinConnections, _options.MaxConnections) : _options.MinConnections;
        var live = _connections.Values.Count(c => !c.Draining && c.Retirement is null);
        var mayRetire = MayRetireRoutinely;
        foreach (var connection in _connections.Values.ToList())
        {
            if (connection is { OpenFailures: > 0, OpenPending: false, Draining: false })
            {
                Open(connection);
            }

            if (!mayRetire || !CanRetire(connection))
            {
                continue;
            }

            if (connection.RotationDue)
            {
                Retire(connection, RecycleReason.Rotation, $"rotation after {connection.Last.Requests} requests (deferred)");
                live--;
            }
            else if (connection.ExpiresAt <= now)
            {
                Retire(connection, RecycleReason.Ttl, "TTL reached");
                live--;
            }
            else if (connection.Leases == 0 && connection.IdleSince + _options.IdleTimeout <= now && live > needed)
            {
                Recycle(connection, RecycleReason.Idle, "idle");
                live--;
            }
        }

        EnsureCapacity();
        DrainRetired();
        ServeWaiters();
    }

    /// <summary>Keeps <paramref name="task"/> as background work of this activation (its deactivation waits for it a while).</summary>
    private async Task TrackAsync(Task task, string what)
    {
        _background[task] = (what, _time.GetTimestamp());
        try
        {
            await task;
        }
        catch (Exception e)
        {
            LogBackgroundFailed(_logger, _name, e);
        }
        finally
        {
            _background.Remove(task);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool}: circuit breaker opened for {BreakDuration}; acquires fail with -32003")]
    private static partial void LogBreakerOpened(ILogger logger, string pool, TimeSpan breakDuration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool}: connection {Connection} carries a session from before this pool activation; it is held until that session ends or for {LeaseTimeout}")]
    private static partial void LogSessionFromBefore(ILogger logger, string pool, string connection, TimeSpan leaseTimeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pool {Pool}: connection {Connection} health {Before} -> {After}")]
    private static partial void LogHealthChanged(ILogger logger, string pool, string connection, ConnectionHealth before, ConnectionHealth after);

    [LoggerMessage(Message = "Pool {Pool}: draining connection {Connection} ({Reason})")]
    private static partial void LogRecycling(ILogger logger, LogLevel level, string pool, string connection, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool}: lease {Lease} of {Holder} not renewed for {Silence}; reclaimed")]
    private static partial void LogLeaseReclaimed(ILogger logger, string pool, string lease, string holder, TimeSpan silence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool}: lease {Lease} held by {Holder} for {Held}, suspiciously long")]
    private static partial void LogLongLease(ILogger logger, string pool, string lease, string holder, TimeSpan held);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pool {Pool}: {Waiters} waiting; asked {Holder} to give lease {Lease} back when idle")]
    private static partial void LogYieldAsked(ILogger logger, string pool, string lease, string holder, int waiters);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pool {Pool}: opening connection {Connection} failed; trying again every {Interval} (routine rotation, TTL and scale-down wait until it opens)")]
    private static partial void LogOpenFailed(ILogger logger, string pool, string connection, TimeSpan interval, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pool {Pool}: opening connection {Connection} failed again ({Failures} times): {Reason}")]
    private static partial void LogOpenFailedAgain(ILogger logger, string pool, string connection, int failures, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pool {Pool}: connection {Connection} could be opened after {Failures} failed attempts")]
    private static partial void LogOpenedAfterFailures(ILogger logger, string pool, string connection, int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool}: deactivated ({Reason}) with background work unfinished after {Wait}: {Unfinished}")]
    private static partial void LogBackgroundUnfinished(ILogger logger, string pool, DeactivationReasonCode reason, TimeSpan wait, string unfinished);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pool {Pool}: a background operation failed")]
    private static partial void LogBackgroundFailed(ILogger logger, string pool, Exception exception);
}
