using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Conduit.Gateway.Pools;

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
    public long AgentsRebound;

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
        meter.CreateObservableCounter("conduit.gateway.agents.rebound", () => Volatile.Read(ref AgentsRebound), description: "Agents found activated again without their socket's binding (their silo stopped or died): bound again in request mode; in session mode the session is lost and the socket closed.");
        meter.CreateObservableCounter("conduit.gateway.slow_consumers", () => Volatile.Read(ref SlowConsumers), description: "Sockets closed with 1013 because their send queue was full.");
        _requestDuration = meter.CreateHistogram<double>("conduit.gateway.request.duration", unit: "s", description: "Time from a request's arrival to its answer.");

        // The pool grains' state as last read (PoolHealth, refreshed by /metrics before each scrape).
        meter.CreateObservableUpDownCounter("conduit.pool.connections", () => PerPoolHealth(p => p.Connections), description: "Upstream connections of the pool, by pool.");
        meter.CreateObservableUpDownCounter("conduit.pool.connections.usable", () => PerPoolHealth(p => p.UsableConnections), description: "Connections that can take leases now, by pool.");
        meter.CreateObservableUpDownCounter("conduit.pool.leases", () => PerPoolHealth(p => p.LeasesInUse), description: "Leases held by agents, by pool.");
        meter.CreateObservableUpDownCounter("conduit.pool.capacity", () => PerPoolHealth(p => p.Capacity), description: "Leases the pool's usable connections can hold, by pool.");
        meter.CreateObservableUpDownCounter("conduit.pool.waiters", () => PerPoolHealth(p => p.Waiters), description: "Agents queued for a lease, by pool.");
        meter.CreateObservableUpDownCounter("conduit.pool.reconnecting", () => PerPoolHealth(p => p.Reconnecting), description: "Connections opening or reconnecting with backoff, by pool.");
        meter.CreateObservableUpDownCounter("conduit.pool.breaker.open", () => PerPoolHealth(p => p.Breaker == "Closed" ? 0 : 1), description: "1 while the pool's circuit breaker is not closed (open or half-open), by pool.");
        meter.CreateObservableCounter("conduit.pool.connections.recycled", ObserveRecycled, description: "Connections the pool drained and closed since its grain activated, by pool and reason (rotation, ttl, idle, unhealthy, session_ended, session_reclaimed).");
    }

    /// <summary>The pools' state for the conduit.pool.* instruments: set from the pool grains before a scrape (empty when they could not be read).</summary>
    public IReadOnlyList<PoolHealthView> PoolHealth { get; set; } = [];

    /// <summary>Per-pool counters (created on first use).</summary>
    public ConcurrentDictionary<string, PoolTraffic> Pools { get; } = new(StringComparer.Ordinal);

    public PoolTraffic ForPool(string pool) => Pools.GetOrAdd(pool, static _ => new PoolTraffic());

    public void Rejected(string reason) => Interlocked.Increment(ref _rejected[Array.IndexOf(RejectReasons, reason)]);

    public long RejectedTotal => _rejected.Sum();

    public long RejectedFor(string reason) => Volatile.Read(ref _rejected[Array.IndexOf(RejectReasons, reason)]);

    public void Closed(int code) => _closed.AddOrUpdate(code, 1, static (_, n) => n + 1);

    public IReadOnlyDictionary<int, long> ClosedByCode => _closed;

    public void RequestDuration(TimeSpan elapsed) => _requestDuration.Record(elapsed.TotalSeconds);

    private IEnumerable<Measurement<long>> PerPoolHealth(Func<PoolHealthView, long> read)
        => PoolHealth.Select(p => new Measurement<long>(read(p), new KeyValuePair<string, object?>("pool", p.Pool)));

    private IEnumerable<Measurement<long>> ObserveRecycled()
        => PoolHealth.SelectMany(p => p.Recycled.ByReason().Select(r => new Measurement<long>(
            r.Count, new KeyValuePair<string, object?>("pool", p.Pool), new KeyValuePair<string, object?>("reason", r.Reason))));

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
