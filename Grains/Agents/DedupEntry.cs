namespace Conduit.Grains.Agents;

/// <summary>
/// A request id in flight: a duplicate that arrives before the answer joins the forwarding task. Once answered, the
/// entry goes and only the id and its answer are kept (<see cref="AnsweredIds"/>).
/// </summary>
internal sealed class DedupEntry(string id, Task<ForwardResult> running, DateTimeOffset seenAt)
{
    /// <summary>The client's id, as JSON.</summary>
    public string Id { get; } = id;

    /// <summary>When the request arrived.</summary>
    public DateTimeOffset SeenAt { get; } = seenAt;

    /// <summary>The response, when the request in flight completes.</summary>
    public async ValueTask<string?> ResponseAsync() => (await running).Response;
}

/// <summary>A forwarded request's response and whether it may be served again from the cache.</summary>
/// <param name="Response">The response JSON with the client's id, or null for a notification.</param>
/// <param name="Cacheable">True when the upstream answered; service errors (-3200x) are not cached, so a retry is forwarded again.</param>
internal readonly record struct ForwardResult(string? Response, bool Cacheable);
