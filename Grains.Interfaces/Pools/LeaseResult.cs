namespace Conduit.Grains;

/// <summary>
/// The answer to <see cref="IPoolGrain.Acquire"/>: a lease on a connection, or a JSON-RPC error code
/// (-32002 exhausted, -32003 circuit open, -32603 unknown pool) with its data, never an exception.
/// </summary>
/// <param name="LeaseId">The lease, when granted.</param>
/// <param name="Connection">The key of the connection grain to send through, when granted.</param>
/// <param name="ErrorCode">0 when granted, else a <see cref="JsonRpcErrorCodes"/> value.</param>
/// <param name="ErrorMessage">Why it was not granted.</param>
/// <param name="WaitedMs">How long the acquirer waited in the queue.</param>
/// <param name="RetryAfterMs">For -32003: when the breaker half-opens.</param>
public sealed record LeaseResult(string? LeaseId, string? Connection, int ErrorCode, string? ErrorMessage, long WaitedMs, long RetryAfterMs)
{
    /// <summary>Whether a lease was granted.</summary>
    public bool Granted => ErrorCode == 0 && LeaseId is not null;
}
