namespace Conduit.Grains;

/// <summary>JSON-RPC error codes the service itself returns (DESIGN section 6).</summary>
public static class JsonRpcErrorCodes
{
    /// <summary>Invalid JSON was received.</summary>
    public const int ParseError = -32700;

    /// <summary>The JSON is not a valid JSON-RPC request.</summary>
    public const int InvalidRequest = -32600;

    /// <summary>Internal error of the service.</summary>
    public const int InternalError = -32603;

    /// <summary>The tenant's message budget is used up; data: retryAfterMs.</summary>
    public const int RateLimited = -32001;

    /// <summary>No connection could be leased in time, or the wait queue is full; data: pool, waitedMs.</summary>
    public const int PoolExhausted = -32002;

    /// <summary>The pool's or connection's circuit breaker is open; data: pool, retryAfterMs.</summary>
    public const int CircuitOpen = -32003;

    /// <summary>The upstream failed or closed while the request was in flight; data: pool.</summary>
    public const int UpstreamFailed = -32004;

    /// <summary>The request timed out; data: timeoutMs.</summary>
    public const int RequestTimeout = -32005;
}
