namespace Conduit.Grains;

/// <summary>The answer of <see cref="IConnectionGrain.Send"/>.</summary>
/// <param name="Response">The response JSON with the caller's id (null for a notification), or a JSON-RPC error object.</param>
/// <param name="Sent">False when nothing was written upstream (connection not open, draining, or its breaker open): safe to send elsewhere.</param>
/// <param name="ConnectionFailed">True when the connection is unusable now (the caller should give its lease back).</param>
/// <param name="Answered">True when the upstream answered (or took a notification): the response may be cached.</param>
/// <param name="Sequence">With a session attached, the answer's place among the messages the upstream sent it (see <see cref="IConnectionGrain.AttachSession"/>); otherwise 0.</param>
/// <param name="Retired">True when nothing was sent because the connection is draining or closed: its pool has moved on from it
/// (rotation, TTL, idle), so this is no failure, and another lease will be on another connection.</param>
public sealed record ConnectionReply(string? Response, bool Sent, bool ConnectionFailed, bool Answered, long Sequence = 0, bool Retired = false);
