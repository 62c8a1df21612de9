using Conduit.Runtime.Cluster;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Membership;

/// <summary>
/// A silo's (or, with no own row, a client's) view of the membership table. On every heartbeat tick
/// it writes its heartbeat, reads the table, and declares dead every silo whose heartbeat has not
/// changed for <see cref="ClusterOptions.DeathTimeout"/> as measured on this process's own clock (so
/// clock skew between machines does not matter), or for <see cref="SuspectAfter"/> when its endpoint
/// refuses connections. It never declares anyone dead on the strength of a
/// failed read: after a Redis outage all silos get a fresh <see cref="ClusterOptions.DeathTimeout"/>.
/// If its own row is missing (Redis restarted empty) it writes it again and reports that through
/// <see cref="RowRestored"/>; if its own row says Dead, it calls <see cref="DeclaredDead"/> once.
/// </summary>
internal sealed partial class MembershipAgent : IAsyncDisposable
{
    private readonly IMembershipTable _table;
    private readonly ClusterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SiloAddress? _self;
    private readonly Func<SiloAddress, CancellationToken, Task<bool>>? _refusesConnections;
    private readonly string? _gatewayEndpoint;
    private readonly DateTimeOffset _startTime;
    private readonly Dictionary<SiloAddress, (DateTimeOffset Heartbeat, long ObservedAt)> _observed = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private readonly object _sharedRefreshGate = new();
    private Task<bool>? _sharedRefresh;
    private SiloStatus _ownStatus = SiloStatus.Joining;
    private MembershipView _view = MembershipView.Empty;
    private IReadOnlyDictionary<SiloAddress, long> _heartbeatSeenAt = new Dictionary<SiloAddress, long>(); // a copy of _observed's times, for GetStatus
    private ClusterStoreStatus _store = ClusterStoreStatus.NotReadYet; // not reachable until a read succeeded
    private int _declaredDead;
    private long _ticks;
    private long _completedTicks;
    private Task _loop = Task.CompletedTask;

    /// <param name="table">The membership table.</param>
    /// <param name="options">Heartbeat interval and death timeout.</param>
    /// <param name="time">Clock.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="self">This silo, or null on a client (which only watches).</param>
    /// <param name="gatewayEndpoint">Written to this silo's row.</param>
    /// <param name="refusesConnections">
    /// Whether a silo's endpoint refuses connections now (nothing listens there: its process is gone). A silo that has
    /// missed heartbeats for <see cref="SuspectAfter"/> is asked this each tick and declared dead at once when it does;
    /// null: only <see cref="ClusterOptions.DeathTimeout"/> declares silos dead.
    /// </param>
    public MembershipAgent(
        IMembershipTable table,
        ClusterOptions options,
        TimeProvider time,
        ILogger logger,
        SiloAddress? self,
        string? gatewayEndpoint,
        Func<SiloAddress, CancellationToken, Task<bool>>? refusesConnections = null)
    {
        _refusesConnections = refusesConnections;
        _table = table;
        _options = options;
        _time = time;
        _logger = logger;
        _self = self;
        _gatewayEndpoint = gatewayEndpoint;
        _startTime = time.GetUtcNow();
    }

    /// <summary>
    /// How long a silo's heartbeat must have stood still before its endpoint is probed: one and a half heartbeat
    /// intervals, so that a silo is probed at the first tick that finds a heartbeat missing (ticks see the value stand
    /// for about 0, 1 or 2 intervals; a probe of a silo that is only late is harmless: it accepts).
    /// </summary>
    public TimeSpan SuspectAfter => _options.HeartbeatInterval * 1.5;

    /// <summary>The latest view (never null; empty before the first successful read).</summary>
    public MembershipView View => Volatile.Read(ref _view);

    /// <summary>The membership table as this agent last found it: whether its last read succeeded, and since when it fails.</summary>
    public ClusterStoreStatus Store => Volatile.Read(ref _store);

    /// <summary>
    /// The view's rows for operators, active ones first: with how long ago, by this process's clock, each live silo's
    /// heartbeat last changed.
    /// </summary>
    public IReadOnlyList<ClusterMemberStatus> Members()
    {
        var view = View;
        var seenAt = Volatile.Read(ref _heartbeatSeenAt);
        return view.Snapshot.Entries
            .OrderBy(e => e.Status == SiloStatus.Active ? 0 : e.Status == SiloStatus.Dead ? 2 : 1)
            .ThenBy(e => e.Silo.ToString(), StringComparer.Ordinal)
            .Select(e => new ClusterMemberStatus(
                e.Silo.ToString(),
                e.Status.ToString(),
                e.HostName,
                e.StartTime,
                e.Status != SiloStatus.Dead && e.Silo != _self && seenAt.TryGetValue(e.Silo, out var at) ? Math.Round(_time.GetElapsedTime(at).TotalSeconds, 1) : null,
                e.GatewayEndpoint,
                e.DeclaredDeadBy))
            .ToList();
    }

    /// <summary>How many heartbeat ticks have finished (tests wait on it instead of sleeping).</summary>
    public long CompletedTicks => Interlocked.Read(ref _completedTicks);

    /// <summary>Raised (on the agent's loop) after each successful read of the table.</summary>
    public event Action<MembershipView>? ViewChanged;

    /// <summary>Raised when this silo's row was missing and has been written again.</summary>
    public event Action? RowRestored;

    /// <summary>Raised once when this silo finds itself declared dead.</summary>
    public event Action? DeclaredDead;

    /// <summary>Writes this silo's row with <paramref name="status"/> (compare-and-set, retried on version races).</summary>
    public async Task SetStatusAsync(SiloStatus status, CancellationToken cancellationToken)
    {
        var self = _self ?? throw new InvalidOperationException("A client has no row.");
        _ownStatus = status;
        for (var attempt = 0; ; attempt++)
        {
            var snapshot = await _table.ReadAllAsync(cancellationToken);
            var current = snapshot.Find(self);
            if (current?.Status == SiloStatus.Dead && status != SiloStatus.Dead)
            {
                OnDeclaredDead();
                throw new InvalidOperationException($"Silo {self} was declared dead; it cannot become {status}.");
            }

            var entry = new MembershipEntry(self, status, _startTime, _time.GetUtcNow(), Environment.MachineName, _gatewayEndpoint);
            if (await _table.TryWriteAsync(entry, snapshot.Version, cancellationToken))
            {
                await RefreshAsync(cancellationToken);
                return;
            }

            if (attempt > 50)
            {
                throw new InvalidOperationException($"Could not write the membership row of {self}: the table keeps changing.");
            }
        }
    }

    /// <summary>Starts the heartbeat loop.</summary>
    public void Start()
    {
        // The timer exists before Start returns, so a test clock advanced right after sees it.
        var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        _loop = Task.Run(() => LoopAsync(timer));
    }

    /// <summary>Reads the table now and updates the view; returns false if the table could not be read.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshLock.WaitAsync(cancellationToken);
        MembershipView view;
        try
        {
            MembershipSnapshot snapshot;
            try
            {
                snapshot = await _table.ReadAllAsync(cancellationToken);
            }
            catch (RedisUnavailableException e)
            {
                var store = Store;
                if (store.Reachable)
                {
                    LogTableUnavailable(_logger, e.Message);
                }

                if (store.UnreachableSince is null)
                {
                    Volatile.Write(ref _store, store with { Reachable = false, UnreachableSince = _time.GetUtcNow() });
                }

                return false;
            }

            var now = _time.GetTimestamp();
            if (!Store.Reachable)
            {
                // After an outage (or at start) nobody has had a chance to heartbeat: start every clock afresh.
                _observed.Clear();
            }

            foreach (var entry in snapshot.Entries)
            {
                if (!_observed.TryGetValue(entry.Silo, out var seen) || seen.Heartbeat != entry.IAmAliveTime)
                {
                    _observed[entry.Silo] = (entry.IAmAliveTime, now);
                }
            }

            view = new MembershipView(snapshot);
            Volatile.Write(ref _view, view);
            Volatile.Write(ref _heartbeatSeenAt, _observed.ToDictionary(p => p.Key, p => p.Value.ObservedAt));
            Volatile.Write(ref _store, new ClusterStoreStatus(true, _time.GetUtcNow(), null));
        }
        finally
        {
            _refreshLock.Release();
        }

        ViewChanged?.Invoke(view);
        return true;
    }

    /// <summary>
    /// As <see cref="RefreshAsync"/> for callers that only need a recent view (routers, after a call failed): while a
    /// read asked for this way is running, later callers share it. Failing calls ask for a refresh each; queued one read
    /// each behind the refresh lock, they delayed the heartbeat tick, and with it the death declaration they wait for.
    /// Never throws: false when the table could not be read.
    /// </summary>
    public Task<bool> RefreshSharedAsync()
    {
        TaskCompletionSource<bool> mine;
        lock (_sharedRefreshGate)
        {
            if (_sharedRefresh is { IsCompleted: false } running)
            {
                return running;
            }

            mine = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _sharedRefresh = mine.Task;
        }

        _ = RunSharedRefreshAsync(mine);
        return mine.Task;
    }

    private async Task RunSharedRefreshAsync(TaskCompletionSource<bool> completion)
    {
        try
        {
            completion.SetResult(await RefreshAsync(CancellationToken.None));
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            completion.SetResult(false);
        }
    }

    /// <summary>Stops the loop and awaits it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        await _loop.ConfigureAwait(false);
    }

    private async Task LoopAsync(PeriodicTimer timer)
    {
        using var owned = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await TickAsync(_stopping.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
                {
                    LogTickFailed(_logger, e);
                }
                finally
                {
                    Interlocked.Increment(ref _completedTicks);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (_self is { } self && _ownStatus != SiloStatus.Dead)
        {
            SiloStatus? status = null;
            var heartbeatOk = true;
            try
            {
                status = await _table.HeartbeatAsync(self, _time.GetUtcNow(), cancellationToken);
            }
            catch (RedisUnavailableException)
            {
                heartbeatOk = false;
            }

            if (heartbeatOk && status is null)
            {
                LogRowMissing(_logger, self.ToString());
                await SetStatusAsync(_ownStatus, cancellationToken);
                RowRestored?.Invoke();
            }
            else if (status == SiloStatus.Dead)
            {
                OnDeclaredDead();
                return;
            }
        }

        if (!await RefreshAsync(cancellationToken))
        {
            return;
        }

        await DeclareSilentSilosDeadAsync(cancellationToken);
        if (++_ticks % 30 == 0 && _self is not null)
        {
            await _table.CleanupDeadAsync(_time.GetUtcNow() - _options.DefunctRowAge, cancellationToken);
        }
    }

    private async Task DeclareSilentSilosDeadAsync(CancellationToken cancellationToken)
    {
        if (_self is null)
        {
            return; // Clients only watch.
        }

        var view = View;
        var silences = view.Snapshot.Entries
            .Where(e => e.Status != SiloStatus.Dead && e.Silo != _self && _observed.ContainsKey(e.Silo))
            .Select(e => (Entry: e, Silent: _time.GetElapsedTime(_observed[e.Silo].ObservedAt)))
            .ToList();

        // Silent past the death timeout, or silent for a while with nothing listening at its endpoint any more: a crashed
        // process on a live host is declared dead in a few heartbeats instead of the whole death timeout. A refusal alone
        // is not enough: from a silo that still heartbeats it would be a fault of the network between two live silos (a
        // firewall's reset), not a death. Suspects are probed together, so that hosts which do not answer cost this tick
        // one probe's time, not one each.
        var suspects = _refusesConnections is null
            ? []
            : silences.Where(s => s.Silent >= SuspectAfter && s.Silent < _options.DeathTimeout).Select(s => s.Entry.Silo).ToList();
        var refusals = await Task.WhenAll(suspects.Select(silo => _refusesConnections!(silo, cancellationToken)));
        var refusing = suspects.Where((_, i) => refusals[i]).ToHashSet();
        foreach (var (entry, silent) in silences)
        {
            var refused = refusing.Contains(entry.Silo);
            if (silent < _options.DeathTimeout && !refused)
            {
                continue;
            }

            var dead = entry with { Status = SiloStatus.Dead, DeclaredDeadBy = _self.ToString() };
            if (await _table.TryWriteAsync(dead, view.Snapshot.Version, cancellationToken))
            {
                if (refused)
                {
                    LogDeclaredDeadRefused(_logger, entry.Silo.ToString(), silent.TotalSeconds);
                }
                else
                {
                    LogDeclaredDead(_logger, entry.Silo.ToString(), silent.TotalSeconds);
                }

                await RefreshAsync(cancellationToken);
            }

            return; // One change per read: the version moved either way.
        }
    }

    private void OnDeclaredDead()
    {
        _ownStatus = SiloStatus.Dead;
        if (Interlocked.Exchange(ref _declaredDead, 1) == 0)
        {
            LogSelfDead(_logger, _self?.ToString() ?? "?");
            DeclaredDead?.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Membership table unavailable; keeping the last view and declaring nobody dead: {Reason}")]
    private static partial void LogTableUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Membership tick failed")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Own membership row of {Silo} is missing (Redis lost its data?); writing it again")]
    private static partial void LogRowMissing(ILogger logger, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Declared silo {Silo} dead: no heartbeat for {Seconds:F1} s")]
    private static partial void LogDeclaredDead(ILogger logger, string silo, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Declared silo {Silo} dead: no heartbeat for {Seconds:F1} s and its endpoint refuses connections")]
    private static partial void LogDeclaredDeadRefused(ILogger logger, string silo, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "This silo {Silo} was declared dead by the cluster; stopping")]
    private static partial void LogSelfDead(ILogger logger, string silo);
}
