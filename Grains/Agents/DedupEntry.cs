namespace Conduit.Grains.Agents;

/// <summary>A request id seen by an agent: its (possibly still running) response and when it arrived.</summary>
internal sealed record DedupEntry(string Id, Task<ForwardResult> Response, DateTimeOffset SeenAt);

/// <summary>A forwarded request's response and whether it may be served again from the cache.</summary>
/// <param name="Response">The response JSON with the client's id, or null for a notification.</param>
/// <param name="Cacheable">True when the upstream answered; service errors (-3200x) are not cached, so a retry is forwarded again.</param>
internal readonly record struct ForwardResult(string? Response, bool Cacheable);
