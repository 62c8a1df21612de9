using System.Collections.Concurrent;
using Conduit.Runtime.Messaging;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Activations;

/// <summary>
/// The activations of this silo, by grain id: creates one on the first call, re-routes calls that
/// reach an activation on its way out, collects idle ones, and deactivates all at shutdown.
/// </summary>
internal sealed partial class Catalog(SiloRuntime runtime)
{
    // A message that keeps meeting activations on their way out is given up on after this many tries.
    private const int MaxForwardCount = 8;

    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private volatile bool _shuttingDown;

    /// <summary>Number of activations in the catalog.</summary>
    public int Count => _activations.Count;

    /// <summary>Every activation in the catalog now.</summary>
    public IEnumerable<ActivationData> Activations => _activations.Values;

    /// <summary>The activation of <paramref name="grainId"/>, if there is one.</summary>
    public ActivationData? Find(GrainId grainId) => _activations.GetValueOrDefault(grainId);

    /// <summary>Delivers a request to the grain's activation, creating it if needed.</summary>
    public void Dispatch(Message message)
    {
        var grainClass = runtime.Registry.FindClass(message.Target.Type);
        if (grainClass is null)
        {
            message.Reply(null, new InvalidOperationException(
                $"No grain class for grain type '{message.Target.Type}' is registered in this silo (call {message}). Register its assembly with AddGrains."));
            return;
        }

        var item = new RequestWorkItem(message);
        while (true)
        {
            if (_shuttingDown)
            {
                if (RedirectWhileShuttingDown?.Invoke(message) != true)
                {
                    message.Reply(null, new SiloUnavailableException($"The silo is shutting down; call {message} was not delivered."));
                }

                return;
            }

            if (!_activations.TryGetValue(message.Target, out var activation))
            {
                var created = new ActivationData(runtime, grainClass, message.Target);
                activation = _activations.GetOrAdd(message.Target, created);
                if (ReferenceEquals(activation, created))
                {
                    activation.Start();
                }
            }

            if (activation.TryEnqueue(item))
            {
                return;
            }

            // That activation is gone; make sure it is out of the map, then try a new one.
            _activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(message.Target, activation));
            if (++message.ForwardCount > MaxForwardCount)
            {
                message.Reply(null, new InvalidOperationException($"Call {message} met {MaxForwardCount} activations on their way out and was given up on."));
                return;
            }
        }
    }

    /// <summary>Sends a request that waited on a deactivated activation to a new one.</summary>
    public void Reroute(Message message)
    {
        if (++message.ForwardCount > MaxForwardCount)
        {
            message.Reply(null, new InvalidOperationException($"Call {message} was re-routed {MaxForwardCount} times and was given up on."));
            return;
        }

        runtime.Router.Send(message);
    }

    /// <summary>
    /// Asked about each call that arrives while the silo shuts down: true when it took the call (the cluster tells a
    /// remote caller to go elsewhere); otherwise the call is refused with <see cref="SiloUnavailableException"/>.
    /// </summary>
    public Func<Message, bool>? RedirectWhileShuttingDown { get; set; }

    /// <summary>Called once per activation after it left the catalog (the cluster unregisters it from the grain directory).</summary>
    public Action<ActivationData>? ActivationRemoved { get; set; }

    /// <summary>Removes an activation that has finished deactivating (or failed to activate).</summary>
    public void OnDeactivated(ActivationData activation)
    {
        _activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation));
        ActivationRemoved?.Invoke(activation);
    }

    /// <summary>Deactivates every activation idle for longer than its collection age; returns how many.</summary>
    public int CollectIdle()
    {
        var now = runtime.TimeProvider.GetTimestamp();
        var count = 0;
        foreach (var activation in _activations.Values)
        {
            if (activation.IsIdleLongerThanAge(now))
            {
                activation.Deactivate(new DeactivationReason(DeactivationReasonCode.ActivationIdle, "Idle for longer than its collection age."));
                count++;
            }
        }

        return count;
    }

    /// <summary>Stops taking calls and deactivates every activation (their OnDeactivateAsync runs).</summary>
    public async Task DeactivateAllAsync(CancellationToken cancellationToken)
    {
        _shuttingDown = true;
        var all = _activations.Values.ToList();
        LogShuttingDown(runtime.Logger, all.Count);
        foreach (var activation in all)
        {
            activation.Deactivate(new DeactivationReason(DeactivationReasonCode.ShuttingDown, "The silo is shutting down."));
        }

        await Task.WhenAll(all.Select(a => a.Deactivated)).WaitAsync(cancellationToken);
    }

    /// <summary>The grain ids of the activations in the catalog now, by grain type.</summary>
    public ILookup<string, GrainId> ByType() => _activations.Keys.ToLookup(g => g.Type, StringComparer.Ordinal);

    /// <summary>
    /// The activations in the catalog now, for a log line: count per grain type with the first few keys, such as
    /// <c>agent x12 (t/a, t/b, t/c, ...), pool x1 (main)</c>; "none" when empty.
    /// </summary>
    public string Describe(int keysPerType = 3)
    {
        var groups = ByType().OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (groups.Count == 0)
        {
            return "none";
        }

        return string.Join(", ", groups.Select(g =>
        {
            var keys = g.Select(id => id.Key).Order(StringComparer.Ordinal).ToList();
            var shown = string.Join(", ", keys.Take(keysPerType)) + (keys.Count > keysPerType ? ", ..." : string.Empty);
            return $"{g.Key} x{keys.Count} ({shown})";
        }));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deactivating {Count} activations for shutdown")]
    private static partial void LogShuttingDown(ILogger logger, int count);
}
