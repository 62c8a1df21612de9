using System.Collections.Concurrent;
using Conduit.Runtime.Activations;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Messaging;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.Observers;
using Conduit.Runtime.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Calls;

/// <summary>
/// The calling side of the runtime: makes references, turns calls into messages, keeps the calls that
/// wait for a response and fails them with <see cref="TimeoutException"/> past the response timeout.
/// </summary>
internal sealed partial class RuntimeClient : IGrainFactory, IResponseSink, IDisposable
{
    private readonly ConcurrentDictionary<long, IPendingCall> _pending = new();
    private readonly GrainTypeRegistry _registry;
    private readonly ObserverRegistry _observers;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ITimer _sweeper;
    private readonly long _timeoutTicks;
    private IMessageRouter? _router;
    private long _nextId;

    public RuntimeClient(
        GrainTypeRegistry registry,
        ObserverRegistry observers,
        IServiceProvider services,
        TimeProvider timeProvider,
        IOptions<SiloOptions> options,
        ILogger<RuntimeClient> logger)
    {
        _registry = registry;
        _observers = observers;
        _services = services;
        _timeProvider = timeProvider;
        _logger = logger;
        ResponseTimeout = options.Value.ResponseTimeout;
        _timeoutTicks = (long)(ResponseTimeout.TotalSeconds * timeProvider.TimestampFrequency);
        // Deadlines are checked by one sweeper rather than a timer per call; it is at most a tenth of the
        // timeout (and at most a second) late.
        var sweepPeriod = TimeSpan.FromTicks(Math.Clamp(ResponseTimeout.Ticks / 10, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond));
        _sweeper = timeProvider.CreateTimer(static s => ((RuntimeClient)s!).SweepExpired(), this, sweepPeriod, sweepPeriod);
    }

    /// <summary>How long a caller waits for a response.</summary>
    public TimeSpan ResponseTimeout { get; }

    /// <summary>Number of calls waiting for a response.</summary>
    public int PendingCount => _pending.Count;

    private IMessageRouter Router => _router ??= _services.GetRequiredService<IMessageRouter>();

    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(primaryKey);
        var grainInterface = _registry.GetInterface(typeof(TGrainInterface));
        return GrainProxy.Create<TGrainInterface>(this, grainInterface, new GrainId(grainInterface.GrainType, primaryKey));
    }

    /// <summary>A reference to <paramref name="grainId"/> through <paramref name="interfaceType"/> (used when reading references off the wire).</summary>
    public object GetReference(Type interfaceType, GrainId grainId)
        => GrainProxy.Create<object>(this, _registry.GetInterface(interfaceType), grainId);

    public TObserver CreateObjectReference<TObserver>(IGrainObserver obj)
        where TObserver : IGrainObserver
    {
        ArgumentNullException.ThrowIfNull(obj);
        if (obj is not TObserver)
        {
            throw new ArgumentException($"{obj.GetType().Name} does not implement {typeof(TObserver).Name}.", nameof(obj));
        }

        var grainInterface = _registry.GetInterface(typeof(TObserver));
        var grainId = _observers.Register(obj, grainInterface);
        return GrainProxy.Create<TObserver>(this, grainInterface, grainId);
    }

    public void DeleteObjectReference<TObserver>(IGrainObserver obj)
        where TObserver : IGrainObserver
        => _observers.Unregister(obj);

    /// <summary>Sends a call; returns the Task (or null for a void method) that the proxy hands to the caller.</summary>
    public object? Invoke(GrainId target, GrainMethod method, object?[] arguments)
    {
        var id = Interlocked.Increment(ref _nextId);
        if (method.IsOneWay)
        {
            Router.Send(new Message(id, target, method, arguments, callChain: null, replyTo: null));
            return method.IsVoid ? null : Task.CompletedTask;
        }

        var pending = method.CreatePendingCall();
        var message = new Message(id, target, method, arguments, RequestContext.OutgoingChain(), this);
        pending.Message = message;
        pending.Deadline = _timeProvider.GetTimestamp() + _timeoutTicks;
        _pending[id] = pending;
        Router.Send(message);
        return pending.Task;
    }

    public void Reply(Message request, object? result, Exception? exception)
    {
        if (!_pending.TryRemove(request.Id, out var pending))
        {
            LogLateResponse(_logger, request.ToString());
        }
        else if (!ActivationTaskScheduler.TryDeferCompletion(pending, result, exception))
        {
            pending.Complete(result, exception);
        }
    }

    /// <summary>Fails every call whose deadline has passed.</summary>
    public void SweepExpired()
    {
        var now = _timeProvider.GetTimestamp();
        foreach (var (id, pending) in _pending)
        {
            if (pending.Deadline <= now && _pending.TryRemove(id, out _))
            {
                pending.Complete(null, new TimeoutException($"No response to {pending.Message} within the response timeout of {ResponseTimeout}."));
            }
        }
    }

    public void Dispose() => _sweeper.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "A response to {Call} arrived after the call had timed out")]
    private static partial void LogLateResponse(ILogger logger, string call);
}
