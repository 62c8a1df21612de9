using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Conduit.Gateway.Metrics;

/// <summary>
/// The gateway's counters. Hot paths only touch plain fields (Interlocked); the meter "Conduit.Gateway" publishes
/// them as observable instruments, read when /metrics is scraped. Names are listed in docs/gateway.md.
/// </summary>
internal sealed class GatewayMetrics
{
    /// <summary>Reasons a socket is refused before the upgrade.</summary>
    public static readonly string[] RejectReasons = ["unauthorized", "unknown_pool", "quota", "draining", "bad_request", "unavailable"];

    private readonly long[] _rejected = new long[RejectReasons.Length];
    private readonly ConcurrentDictionary<int, long> _closed = new();
    private readonly Histogram<double> _requestDuration;

    public long ActiveSockets;
    public long OpenedSockets;
    public long MessagesReceived;
    public long FramesSent;
    public long RequestsCompleted;
    public long RequestErrors;
    public long InFlight;
    public long RateLimited;
    public long ParseErrors;
    public long InvalidRequests;
    public long QueuedMessages;
    public long SlowConsumers;
    public long OversizedMessages;
    public long LifetimeExpired;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create("Conduit.Gateway");
        meter.CreateObservableUpDownCounter("conduit.gateway.sockets.active", () => PerPool(p => p.ActiveSockets), description: "Client sockets open now, by pool.");
        meter.CreateObservableCounter("conduit.gateway.sockets.opened", () => PerPool(p => p.OpenedSockets), description: "Client sockets accepted, by pool.");
        meter.CreateObservableCounter("conduit.gateway.sockets.rejected", ObserveRejected, description: "Upgrade requests refused before the upgrade, by reason.");
        meter.CreateObservableCounter("conduit.gateway.sockets.closed", ObserveClosed, description: "Client sockets closed, by WebSocket close code (1006 = aborted).");
        meter.CreateObservableCounter("conduit.gateway.messages.received", () => PerPool(p => p.MessagesReceived), description: "JSON-RPC messages received from clients (batch elements count one each), by pool.");
        meter.CreateObservableCounter("conduit.gateway.frames.sent", () => Volatile.Read(ref FramesSent), description: "Text frames written to clients.");
        meter.CreateObservableCounter("conduit.gateway.requests.completed", () => PerPool(p => p.RequestsCompleted), description: "Requests and notifications forwarded and finished, by pool.");
        meter.CreateObservableCounter("conduit.gateway.requests.errors", () => PerPool(p => p.RequestErrors), description: "Forwarded requests that failed inside the service (timeouts, grain failures), by pool.");
        meter.CreateObservableUpDownCounter("conduit.gateway.requests.inflight", () => PerPool(p => p.InFlight), description: "Requests forwarded and not yet answered, by pool.");
        meter.CreateObservableCounter("conduit.gateway.messages.rate_limited", () => Volatile.Read(ref RateLimited), description: "Messages refused with -32001 (tenant over its message budget).");
        meter.CreateObservableCounter("conduit.gateway.messages.invalid", ObserveInvalid, description: "Frames answered with -32700 or -32600, by kind.");
        meter.CreateObservableUpDownCounter("conduit.gateway.send_queue.messages", () => Volatile.Read(ref QueuedMessages), description: "Messages waiting in the send queues of all sockets.");
        meter.CreateObservableCounter("conduit.gateway.slow_consumers", () => Volatile.Read(ref SlowConsumers), description: "Sockets closed with 1013 because their send queue was full.");
        _requestDuration = meter.CreateHistogram<double>("conduit.gateway.request.duration", unit: "s", description: "Time from a request's arrival to its answer.");
    }

    /// <summary>Per-pool counters (created on first use).</summary>
    public ConcurrentDictionary<string, PoolTraffic> Pools { get; } = new(StringComparer.Ordinal);

    public PoolTraffic ForPool(string pool) => Pools.GetOrAdd(pool, static _ => new PoolTraffic());

    public void Rejected(string reason) => Interlocked.Increment(ref _rejected[Array.IndexOf(RejectReasons, reason)]);

    public long RejectedTotal => _rejected.Sum();

    public long RejectedFor(string reason) => Volatile.Read(ref _rejected[Array.IndexOf(RejectReasons, reason)]);

    public void Closed(int code) => _closed.AddOrUpdate(code, 1, static (_, n) => n + 1);

    public IReadOnlyDictionary<int, long> ClosedByCode => _closed;

    public void RequestDuration(TimeSpan elapsed) => _requestDuration.Record(elapsed.TotalSeconds);

    private IEnumerable<Measurement<long>> PerPool(Func<PoolTraffic, long> read)
    {
        foreach (var (pool, traffic) in Pools)
        {
            yield return new Measurement<long>(read(traffic), new KeyValuePair<string, object?>("pool", pool));
        }
    }

    private IEnumerable<Measurement<long>> ObserveRejected()
    {
        for (var i = 0; i < RejectReasons.Length; i++)
        {
            yield return new Measurement<long>(Volatile.Read(ref _rejected[i]), new KeyValuePair<string, object?>("reason", RejectReasons[i]));
        }
    }

    private IEnumerable<Measurement<long>> ObserveClosed()
    {
        foreach (var (code, count) in _closed)
        {
            yield return new Measurement<long>(count, new KeyValuePair<string, object?>("code", code));
        }
    }

    private IEnumerable<Measurement<long>> ObserveInvalid()
    {
        yield return new Measurement<long>(Volatile.Read(ref ParseErrors), new KeyValuePair<string, object?>("kind", "parse_error"));
        yield return new Measurement<long>(Volatile.Read(ref InvalidRequests), new KeyValuePair<string, object?>("kind", "invalid_request"));
        yield return new Measurement<long>(Volatile.Read(ref OversizedMessages), new KeyValuePair<string, object?>("kind", "too_big"));
    }
}
