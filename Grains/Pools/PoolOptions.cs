using Conduit.Grains.Connections;
using Conduit.Grains.LoadBalancing;

namespace Conduit.Grains.Pools;

/// <summary>
/// The settings of one pool, bound from configuration section <c>Pools:{name}</c>. Defaults are those
/// of DESIGN section 5; <see cref="PoolOptionsValidator"/> checks every value at start-up.
/// </summary>
public sealed class PoolOptions
{
    /// <summary>The configuration section that holds one child section per pool.</summary>
    public const string SectionName = "Pools";

    /// <summary>Upstream <c>ws://</c> or <c>wss://</c> URL. Required.</summary>
    public string? Url { get; set; }

    /// <summary>
    /// The WebSocket subprotocol the upstream speaks (<c>Sec-WebSocket-Protocol</c>), for example <c>mcp</c> for an MCP
    /// server. The pool's connections ask for it, and the gateway selects it for a client that asks for it (clients
    /// such as browsers and the MCP SDK refuse a connection whose server selects none of the subprotocols they asked
    /// for). Default none.
    /// </summary>
    public string? SubProtocol { get; set; }

    /// <summary>Request (multiplexed, default) or Session (exclusive connection per agent).</summary>
    public PoolMode Mode { get; set; } = PoolMode.Request;

    /// <summary>Connections kept open even without demand. Default 2.</summary>
    public int MinConnections { get; set; } = 2;

    /// <summary>Hard cap of connections. Default 10.</summary>
    public int MaxConnections { get; set; } = 10;

    /// <summary>Request leases per connection in request mode. Default 64.</summary>
    public int MaxInFlightPerConnection { get; set; } = 64;

    /// <summary>How long an acquirer waits in the FIFO queue before -32002. Default 5 s.</summary>
    public TimeSpan AcquireTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Waiting acquirers beyond which an acquire fails at once. Default 1000.</summary>
    public int MaxWaiters { get; set; } = 1000;

    /// <summary>Lifetime of a connection before it is drained and replaced. Default 30 min.</summary>
    public TimeSpan ConnectionTtl { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Relative jitter applied to <see cref="ConnectionTtl"/> per connection (0.1 = +-10%). Default 0.1.</summary>
    public double TtlJitter { get; set; } = 0.1;

    /// <summary>Connections above the minimum that stay unleased this long are closed. Default 5 min.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Requests after which a connection is rotated (drained and replaced). Default 1000.</summary>
    public int MaxRequestsPerConnection { get; set; } = 1000;

    /// <summary>A lease not renewed within this returns to the pool (its holder is gone). Default 30 s.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A lease held longer than this is logged as suspicious (still renewed). Default 10 min.</summary>
    public TimeSpan LongLeaseWarning { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an agent keeps a request-mode lease after its last response (busy agents keep theirs). Default 50 ms.</summary>
    public TimeSpan LeaseIdleRelease { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Connection choice for new leases. Default least-connections.</summary>
    public LoadBalancingMode LoadBalancing { get; set; } = LoadBalancingMode.LeastConnections;

    /// <summary>Time between health checks of a connection. Default 30 s.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A check (ping/pong or probe) not answered within this fails. Default 5 s.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Optional JSON-RPC method sent as a health probe (e.g. "ping"); null = WebSocket ping/pong and request latencies only.</summary>
    public string? HealthCheckMethod { get; set; }

    /// <summary>Latency up to which a check counts as healthy. Default 1 s.</summary>
    public TimeSpan HealthyLatency { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Latency up to which a check counts as degraded; above it (or failed) unhealthy. Default 3 s.</summary>
    public TimeSpan DegradedLatency { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Consecutive unhealthy checks that make a connection unhealthy. Default 3.</summary>
    public int FailureThreshold { get; set; } = 3;

    /// <summary>Consecutive good checks that make an unhealthy connection healthy again. Default 2.</summary>
    public int SuccessThreshold { get; set; } = 2;

    /// <summary>Failure ratio within <see cref="BreakerSamplingDuration"/> that opens a breaker. Default 0.5.</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Outcomes needed within the sampling window before a breaker may open. Default 5.</summary>
    public int BreakerMinimumThroughput { get; set; } = 5;

    /// <summary>Window over which breaker outcomes are counted. Default 30 s.</summary>
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker rejects before it half-opens. Default 60 s.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First reconnect delay; doubles per failed attempt, with jitter. Default 100 ms.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest reconnect delay. Default 30 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for the upstream handshake. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A request not answered by the upstream within this gets -32005. Default 25 s (below the runtime's 30 s call timeout).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// Largest message accepted from the upstream (all fragments together). A larger one closes the socket as broken (the
    /// requests in flight on it get -32004) rather than growing a buffer without bound. Default 8 MiB (half the cluster
    /// transport's frame limit, which the answer must cross as an escaped JSON string).
    /// </summary>
    public int MaxMessageBytes { get; set; } = UpstreamLimits.DefaultMaxMessageBytes;

    /// <summary>Whether demand forecasting pre-opens connections (never above the maximum). Default on.</summary>
    public bool PreWarming { get; set; } = true;

    /// <summary>Smoothing factor of the demand moving average (0-1]. Default 0.3.</summary>
    public double DemandSmoothing { get; set; } = 0.3;

    /// <summary>Free capacity kept ahead of forecast demand, as a fraction of it. Default 0.25.</summary>
    public double PreWarmHeadroom { get; set; } = 0.25;

    /// <summary>Period of the pool's maintenance (leases, scaling, TTL, pre-warming). Default 1 s.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(1);
}
