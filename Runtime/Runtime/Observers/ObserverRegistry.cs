using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Conduit.Runtime.Messaging;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.Scheduling;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Observers;

/// <summary>
/// Local objects that grains may call (observers). Each observer has its own serial scheduler, so its
/// calls start one at a time in the order they arrived; they are not turn-based beyond that.
/// Observer ids are "{runtime id}/{guid}" so that a cluster can route calls back to their process: a client's
/// calls come back over its own connections; in a silo (a co-hosted gateway) the id also names the silo,
/// "{runtime id}~{silo address}/{guid}", so that grains on other silos can reach it.
/// </summary>
internal sealed partial class ObserverRegistry(ILogger<ObserverRegistry> logger)
{
    /// <summary>The grain type of every observer id.</summary>
    public const string ObserverGrainType = "sys.observer";

    private readonly ConcurrentDictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<object, string> _keys = new();
    private string _prefix = string.Empty;

    /// <summary>Identifies this process's runtime in observer ids.</summary>
    public string RuntimeId { get; } = Guid.NewGuid().ToString("N")[..12];

    /// <summary>Names the silo this registry lives in, in the ids of observers registered from now on (set when the silo joins).</summary>
    public void SetHomeSilo(Membership.SiloAddress silo) => Volatile.Write(ref _prefix, "~" + silo);

    /// <summary>The silo that hosts <paramref name="observer"/>, if it was registered in a silo (not a client).</summary>
    public static Membership.SiloAddress? FindHomeSilo(GrainId observer)
    {
        var key = observer.Key;
        var slash = key.IndexOf('/');
        var tilde = key.IndexOf('~');
        return tilde > 0 && tilde < slash ? Membership.SiloAddress.Parse(key[(tilde + 1)..slash]) : null;
    }

    /// <summary>Number of registered observers.</summary>
    public int Count => _byKey.Count;

    /// <summary>Registers <paramref name="target"/> (once; a second call returns the same id).</summary>
    public GrainId Register(object target, GrainInterface grainInterface)
    {
        var key = _keys.GetValue(target, _ => $"{RuntimeId}{Volatile.Read(ref _prefix)}/{Guid.NewGuid():N}");
        _byKey.TryAdd(key, new Entry(target, grainInterface, new ActivationTaskScheduler(target)));
        return new GrainId(ObserverGrainType, key);
    }

    /// <summary>Stops routing calls to <paramref name="target"/>.</summary>
    public void Unregister(object target)
    {
        if (_keys.TryGetValue(target, out var key))
        {
            _byKey.TryRemove(key, out _);
            _keys.Remove(target);
        }
    }

    /// <summary>Whether <paramref name="grainId"/> is an observer registered in this process.</summary>
    public bool IsLocal(GrainId grainId) => grainId.Key.StartsWith(RuntimeId, StringComparison.Ordinal);

    /// <summary>Invokes a call on a local observer.</summary>
    public void Dispatch(Message message)
    {
        if (!_byKey.TryGetValue(message.Target.Key, out var entry))
        {
            LogObserverGone(logger, message.ToString());
            message.Reply(null, new InvalidOperationException($"Observer {message.Target} no longer exists (call {message.Method.Name})."));
            return;
        }

        NoFlow.Run(static s => Task.Factory.StartNew(
                static s => InvokeAsync(((Entry, Message, ILogger))s!),
                s, CancellationToken.None, TaskCreationOptions.DenyChildAttach, s.Item1.Scheduler),
            (entry, message, (ILogger)logger));
    }

    private static async Task InvokeAsync((Entry Entry, Message Message, ILogger Logger) call)
    {
        try
        {
            var result = await call.Message.Method.InvokeAsync(call.Entry.Target, call.Message.Arguments);
            call.Message.Reply(result, null);
        }
        catch (Exception exception)
        {
            if (call.Message.ReplyTo is null)
            {
                LogObserverFailed(call.Logger, exception, call.Message.ToString());
            }

            call.Message.Reply(null, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Call {Call} is for an observer that no longer exists")]
    private static partial void LogObserverGone(ILogger logger, string call);

    [LoggerMessage(Level = LogLevel.Warning, Message = "One-way observer call {Call} failed")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception, string call);

    private sealed record Entry(object Target, GrainInterface Interface, ActivationTaskScheduler Scheduler);
}
