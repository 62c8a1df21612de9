using System.Collections.Concurrent;
using Conduit.Runtime.Activations;
using Conduit.Runtime.Directory;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Membership;
using Conduit.Runtime.Messaging;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.Observers;
using Conduit.Runtime.Transport;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Cluster;

/// <summary>
/// The cluster's <see cref="IMessageRouter"/>, for silos and for clients. A grain call goes to the local
/// activation if there is one; else to the silo in the directory cache; else to the silo the directory
/// names; else to the silo hash placement picks. A silo activates a grain only after winning its
/// directory registration; a silo that loses (or gets a call for a grain it does not own) answers
/// "moved" to remote callers, who update their cache and re-route; local callers are forwarded.
/// Observer calls go to the local registry or back over the observer's client connection.
/// </summary>
internal sealed partial class ClusterMessageRouter : IMessageRouter
{
    private const int MaxForwardCount = 8;
    private const int MaxLeavingWaits = 40;

    private readonly ObserverRegistry _observers;
    private readonly GrainTypeRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RepeatedLogs _repeated;
    private readonly ConcurrentDictionary<GrainId, SiloAddress> _cache = new();
    private readonly ConcurrentDictionary<GrainId, Task<GrainAddress>> _registrations = new();
    private readonly ConcurrentDictionary<SiloAddress, long> _unreachable = new();
    private readonly ConcurrentDictionary<SiloAddress, long> _leaving = new(); // silos that answered "moved, owner unknown": shutting down
    private readonly ConcurrentDictionary<Task, byte> _unregistrations = new();
    private ClusterTransport? _transport;
    private Func<MembershipView>? _view;
    private IGrainDirectory? _directory;
    private SiloAddress? _self;
    private Catalog? _catalog;
    private TimeSpan _unreachableFor = TimeSpan.FromSeconds(10);
    private IReadOnlyList<SiloAddress> _lastActive = [];
    private bool _preferLocal;
    private Func<Task>? _refreshView;
    private volatile bool _shuttingDown;
    private volatile bool _killed;

    public ClusterMessageRouter(ObserverRegistry observers, GrainTypeRegistry registry, TimeProvider time, RepeatedLogs repeated, ILogger<ClusterMessageRouter> logger)
    {
        _observers = observers;
        _registry = registry;
        _time = time;
        _repeated = repeated;
        _logger = logger;
    }

    /// <summary>Number of grains whose owner is cached.</summary>
    public int CachedCount => _cache.Count;

    /// <summary>
    /// Connects the router to the running cluster parts; <paramref name="self"/> and <paramref name="catalog"/>
    /// are null on a client, <paramref name="directory"/> is null without Redis.
    /// </summary>
    public void Attach(ClusterTransport transport, Func<MembershipView> view, IGrainDirectory? directory, SiloAddress? self, Catalog? catalog, TimeSpan unreachableFor, bool preferLocal = false, Func<Task>? refreshView = null)
    {
        _refreshView = refreshView;
        _preferLocal = preferLocal;
        _view = view;
        _directory = directory;
        _self = self;
        _catalog = catalog;
        _unreachableFor = unreachableFor;
        if (self is not null)
        {
            _observers.SetHomeSilo(self);
        }

        transport.RequestReceived = OnRemoteRequest;
        if (catalog is not null)
        {
            catalog.ActivationRemoved = OnActivationRemoved;
            catalog.RedirectWhileShuttingDown = RedirectWhileShuttingDown;
        }

        _transport = transport;
    }

    /// <summary>Stops accepting new activations here: callers are told to go elsewhere.</summary>
    public void BeginShutdown() => _shuttingDown = true;

    /// <summary>Simulates (or follows) a crash: nothing is unregistered any more and nothing new is taken.</summary>
    public void Kill()
    {
        _killed = true;
        _shuttingDown = true;
    }

    /// <summary>Directory unregistrations started by deactivations and not finished yet.</summary>
    public int PendingUnregistrations => _unregistrations.Count;

    /// <summary>Waits for directory unregistrations started by deactivations.</summary>
    public Task WhenUnregisteredAsync() => Task.WhenAll(_unregistrations.Keys);

    /// <summary>Forgets cached owners that the view says are dead.</summary>
    public void OnViewChanged(MembershipView view)
    {
        if (view.ActiveSilos.Count > 0)
        {
            Volatile.Write(ref _lastActive, view.ActiveSilos);
        }

        foreach (var (grain, silo) in _cache)
        {
            if (view.IsDead(silo))
            {
                _cache.TryRemove(new KeyValuePair<GrainId, SiloAddress>(grain, silo));
            }
        }

        foreach (var silo in _unreachable.Keys.Concat(_leaving.Keys))
        {
            if (view.IsDead(silo))
            {
                _unreachable.TryRemove(silo, out _);
                _leaving.TryRemove(silo, out _);
            }
        }
    }

    public void Send(Message message)
    {
        if (_transport is null)
        {
            message.Reply(null, new SiloUnavailableException($"The cluster is not started yet; call {message} was not sent."));
            return;
        }

        if (message.Target.Type == ObserverRegistry.ObserverGrainType)
        {
            SendToObserver(message);
            return;
        }

        if (!_killed && _catalog?.Find(message.Target) is not null)
        {
            _catalog.Dispatch(message);
            return;
        }

        if (_cache.TryGetValue(message.Target, out var cached))
        {
            if (cached == _self)
            {
                _ = DeliverHereAsync(message);
            }
            else if (_transport.TryGetOpenConnection(cached, out var connection))
            {
                SendOver(connection, message, cached); // the common case, without an async hop
            }
            else
            {
                _ = SendToSiloAsync(cached, message);
            }

            return;
        }

        _ = RouteUncachedAsync(message);
    }

    /// <summary>Registers every local activation again (after Redis lost its data); a lost race deactivates the local duplicate.</summary>
    public async Task ReRegisterAllAsync(CancellationToken cancellationToken)
    {
        if (_catalog is null || _directory is null || _self is null)
        {
            return;
        }

        foreach (var activation in _catalog.Activations.ToList())
        {
            var grain = activation.GrainId;
            var mine = _registrations.TryGetValue(grain, out var task) && task.IsCompletedSuccessfully ? task.Result : new GrainAddress(grain, _self, Guid.NewGuid().ToString("N"));
            var winner = await _directory.RegisterAsync(mine, cancellationToken);
            if (winner.Silo == _self)
            {
                _registrations[grain] = Task.FromResult(winner);
            }
            else
            {
                LogDuplicateDeactivated(_logger, grain, winner.Silo.ToString());
                _registrations.TryRemove(grain, out _);
                _cache[grain] = winner.Silo;
                activation.Deactivate(new DeactivationReason(DeactivationReasonCode.DirectoryFailure, $"Directory entry was taken by {winner.Silo}."));
            }
        }
    }

    private async Task RouteUncachedAsync(Message message)
    {
        var entry = await LookupAsync(message.Target);

        // Its silo is shutting down and has not unregistered the grain yet (it deactivates it first, finishing the turns
        // it runs): ask again shortly, then place it among the others. Nothing ran there. Bounded by how long a silo
        // that said it is leaving counts as leaving, and by a number of looks.
        for (var wait = 0; entry is not null && wait < MaxLeavingWaits && IsLeavingOrStoppingHere(entry.Silo); wait++)
        {
            // Every other silo is leaving as well (the whole cluster stops): no silo could take the grain after it has
            // left, and waiting would hold the caller, and the stop of the caller's silo if the caller is a deactivating
            // grain, until the silos' shutdown timeouts.
            if (!CanPlaceOtherThan(entry.Silo))
            {
                message.Reply(null, new SiloUnavailableException(
                    $"{message.Target} is on {entry.Silo}, which is leaving, and no active silo could take it (call {message})."));
                return;
            }

            await Task.Delay(LeavingRetryDelay(wait), _time);
            entry = await LookupAsync(message.Target);
        }

        if (entry is not null)
        {
            if (IsUnreachable(entry.Silo))
            {
                message.Reply(null, new SiloUnavailableException(
                    $"{message.Target} lives on {entry.Silo}, which does not answer; it will be re-activated elsewhere once that silo is declared dead."));
                return;
            }

            _cache[message.Target] = entry.Silo;
        }

        var target = entry?.Silo ?? (_preferLocal && message.ReplyTo is not RemoteReplySink && !_shuttingDown ? _self : null) ?? Place(message.Target);
        if (target is null)
        {
            message.Reply(null, new SiloUnavailableException($"No active silo to place {message.Target} on (call {message})."));
            return;
        }

        await (target == _self ? DeliverHereAsync(message) : SendToSiloAsync(target, message));
    }

    private async Task<GrainAddress?> LookupAsync(GrainId grain)
    {
        if (_directory is null)
        {
            return null;
        }

        try
        {
            return await _directory.LookupAsync(grain, CancellationToken.None);
        }
        catch (Cluster.RedisUnavailableException)
        {
            return null; // fall back on placement: if the grain lives where the hash puts it, it keeps serving
        }
    }

    private SiloAddress? Place(GrainId grain)
    {
        // A table that has just lost its data is empty until the silos write their rows again: keep placing as before.
        // A table with rows but no active silo (the whole cluster stopped) has nowhere to place: the caller is told so
        // instead of trying silos that are gone, once per call.
        var view = _view!();
        var active = view.Snapshot.Entries.Count > 0 ? view.ActiveSilos : Volatile.Read(ref _lastActive);
        var reachable = active.Where(MayTake).ToList();
        return HashPlacement.Choose(grain, reachable.Count > 0 ? reachable : active);
    }

    private async Task DeliverHereAsync(Message message)
    {
        if (_catalog is null || _self is null)
        {
            message.Reply(null, new SiloUnavailableException($"A client cannot host {message.Target}."));
            return;
        }

        if (!_killed && _catalog.Find(message.Target) is not null)
        {
            _catalog.Dispatch(message);
            return;
        }

        if (_shuttingDown)
        {
            ReplyElsewhere(message, owner: null);
            return;
        }

        var registration = RegistrationOf(message.Target);
        GrainAddress winner;
        try
        {
            winner = await registration;
        }
        catch (Exception e)
        {
            _registrations.TryRemove(new KeyValuePair<GrainId, Task<GrainAddress>>(message.Target, registration));
            message.Reply(null, new SiloUnavailableException(
                $"Cannot activate {message.Target}: the grain directory is unavailable ({e.Message}). Existing activations keep serving.", e));
            return;
        }

        if (winner.Silo == _self)
        {
            _catalog.Dispatch(message);
            return;
        }

        _registrations.TryRemove(new KeyValuePair<GrainId, Task<GrainAddress>>(message.Target, registration));
        _cache[message.Target] = winner.Silo;
        ReplyElsewhere(message, winner.Silo);
    }

    /// <summary>
    /// This silo's registration of <paramref name="grain"/>: the one under way or done, else a new one. Exactly one runs
    /// per grain: <c>GetOrAdd</c> with a factory may run the factory twice when two calls arrive together, and a second
    /// registration would take the entry from the first (it looks like a stale entry of this silo), leaving the
    /// activation with an address the directory no longer holds and the directory with one nobody unregisters.
    /// </summary>
    private Task<GrainAddress> RegistrationOf(GrainId grain)
    {
        if (_registrations.TryGetValue(grain, out var current))
        {
            return current;
        }

        var started = new TaskCompletionSource<GrainAddress>();
        var registration = _registrations.GetOrAdd(grain, started.Task);
        if (ReferenceEquals(registration, started.Task))
        {
            _ = CompleteAsync();
        }

        return registration;

        async Task CompleteAsync()
        {
            try
            {
                started.TrySetResult(await RegisterAsync(grain));
            }
            catch (Exception e)
            {
                started.TrySetException(e);
            }
        }
    }

    private async Task<GrainAddress> RegisterAsync(GrainId grain)
    {
        var directory = _directory ?? throw new InvalidOperationException("No grain directory.");
        var mine = new GrainAddress(grain, _self!, Guid.NewGuid().ToString("N"));
        for (var attempt = 0; ; attempt++)
        {
            var winner = await directory.RegisterAsync(mine, CancellationToken.None);
            if (winner == mine || winner.Silo != _self || attempt >= 3)
            {
                return winner;
            }

            // A stale entry of an earlier activation on this silo (its unregistration has not landed yet).
            await directory.UnregisterAsync(winner, CancellationToken.None);
        }
    }

    private void ReplyElsewhere(Message message, SiloAddress? owner)
    {
        if (message.ReplyTo is RemoteReplySink)
        {
            // A remote caller re-routes itself and learns the owner.
            message.Reply(null, new GrainMovedException(owner));
            return;
        }

        if (++message.ForwardCount > MaxForwardCount)
        {
            message.Reply(null, new SiloUnavailableException($"Call {message} was re-routed {MaxForwardCount} times and was given up on."));
            return;
        }

        if (owner is null)
        {
            _ = RouteUncachedAsync(message);
        }
        else
        {
            _ = SendToSiloAsync(owner, message);
        }
    }

    private void OnActivationRemoved(ActivationData activation)
    {
        var grain = activation.GrainId;
        if (_killed || _catalog?.Find(grain) is not null)
        {
            return;
        }

        _cache.TryRemove(grain, out _);

        // A registration still under way is not this activation's: it is for the next one (a call arrived after this one
        // left the catalog), which unregisters it when it goes. Dropped here, its entry would stay in the directory.
        if (_registrations.TryGetValue(grain, out var registration)
            && registration.IsCompleted
            && _registrations.TryRemove(new KeyValuePair<GrainId, Task<GrainAddress>>(grain, registration))
            && registration.IsCompletedSuccessfully && registration.Result.Silo == _self && _directory is not null)
        {
            var address = registration.Result;
            var task = UnregisterAsync(address);
            _unregistrations[task] = 0;
            _ = task.ContinueWith(t => _unregistrations.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task UnregisterAsync(GrainAddress address)
    {
        try
        {
            await _directory!.UnregisterAsync(address, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Left behind, the entry is replaced once this silo is dead, or deleted by the next registration here. While Redis
            // is down every deactivation fails so: one line per 10 s, with a count.
            if (_repeated.Admit("directory unregistration failed"))
            {
                LogUnregisterFailed(_logger, address.Grain, e.Message);
            }
        }
    }

    private bool IsStoppingHere(SiloAddress silo) => silo == _self && _shuttingDown;

    private bool IsLeavingOrStoppingHere(SiloAddress silo) => IsLeaving(silo) || IsStoppingHere(silo);

    /// <summary>Whether placement may put a grain on <paramref name="silo"/>: it answers, and it is not this silo while it stops.</summary>
    private bool MayTake(SiloAddress silo) => !IsUnreachable(silo) && !IsStoppingHere(silo);

    /// <summary>
    /// Whether an active silo other than <paramref name="leaving"/> could take a grain: not this one while it stops, not
    /// one that said it is leaving or does not answer. True as well while the membership table is empty (it has just
    /// lost its data, and its rows come back).
    /// </summary>
    private bool CanPlaceOtherThan(SiloAddress leaving)
    {
        var view = _view!();
        return view.Snapshot.Entries.Count == 0
            || view.ActiveSilos.Any(s => s != leaving && MayTake(s) && !IsLeaving(s));
    }

    private bool IsUnreachable(SiloAddress silo)
        => _unreachable.TryGetValue(silo, out var since) && _time.GetElapsedTime(since) < _unreachableFor;

    private bool IsLeaving(SiloAddress silo)
        => _leaving.TryGetValue(silo, out var since) && _time.GetElapsedTime(since) < _unreachableFor;

    /// <summary>50 ms, doubling up to 400 ms: with <see cref="MaxLeavingWaits"/> about 15 s in all for a grain to leave its silo.</summary>
    private static TimeSpan LeavingRetryDelay(int wait) => TimeSpan.FromMilliseconds(50 << Math.Min(wait, 3));

    /// <summary>
    /// A call for an activation of this silo while it shuts down, which would fail although it never ran: a remote caller
    /// is told "moved, owner unknown" and waits for the grain to leave here, then places it again; a local caller (a
    /// turn this silo still finishes, such as an agent's request) is routed the same way from here.
    /// </summary>
    private bool RedirectWhileShuttingDown(Message message)
    {
        if (message.ReplyTo is RemoteReplySink)
        {
            message.Reply(null, new GrainMovedException(owner: null));
            return true;
        }

        if (_killed || _directory is null || ++message.ForwardCount > MaxForwardCount)
        {
            return false;
        }

        _ = RouteUncachedAsync(message);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deactivating local {Grain}: its directory entry belongs to {Owner}")]
    private static partial void LogDuplicateDeactivated(ILogger logger, GrainId grain, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not unregister {Grain} from the directory: {Reason}")]
    private static partial void LogUnregisterFailed(ILogger logger, GrainId grain, string reason);
}
