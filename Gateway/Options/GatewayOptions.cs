namespace Conduit.Gateway;

/// <summary>Options of the WebSocket gateway (configuration section "Gateway").</summary>
public sealed class GatewayOptions
{
    /// <summary>WebSocket ping interval. Default 15 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A client that does not answer a ping within this time is dropped. Default 30 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest accepted message (all fragments together); a bigger one closes the socket with 1009. Default 1 MiB (range 1 KiB - 64 MiB).</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>Messages waiting to be written to one client; past it the client is a slow consumer and is closed with 1013. Default 1024.</summary>
    public int SendQueueCapacity { get; set; } = 1024;

    /// <summary>Bytes waiting to be written to one client; past it the client is closed with 1013. Default 16 MiB.</summary>
    public long SendQueueMaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Requests of one socket in flight at once; more wait (the socket is not read meanwhile). Default 256.</summary>
    public int MaxInFlightPerSocket { get; set; } = 256;

    /// <summary>Upper bound of a socket's lifetime (the tenant's tier may set a shorter one); then closed with 1008. Default 24 h.</summary>
    public TimeSpan MaxSocketLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>On shutdown, how long in-flight requests get to finish before sockets are closed with 1001 anyway. Default 10 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a close handshake may take before the socket is aborted. Default 2 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the gateway renews the quota permits of its sockets. Default 20 s (must be below the quota grain's permit TTL, 60 s).</summary>
    public TimeSpan PermitRenewInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The fewest messages to ask the quota grain for when a tenant's local budget runs low. Default 50. A busy tenant's
    /// requests grow with its rate (about 250 ms of its messages, up to 100 times this), within the grain's slice.
    /// </summary>
    public int BudgetRequestSize { get; set; } = 50;

    /// <summary>How long the answer "this pool exists / does not" is cached. Default 10 s.</summary>
    public TimeSpan PoolLookupCacheTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Retry-After sent with a 503 when an upgrade needs a grain the cluster cannot reach right now (a crashed silo
    /// not yet declared dead, Redis down). Default 5 s (range 1 s - 5 min), about half of the default death timeout.
    /// </summary>
    public TimeSpan UnavailableRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// SHA-256 hex hashes of the keys that open the operator endpoints (<c>/dashboard</c>, <c>/metrics</c>,
    /// <c>/api/usage/*</c>). Empty (default): those endpoints answer loopback clients only.
    /// </summary>
    public List<string> AdminKeyHashes { get; set; } = [];
}
