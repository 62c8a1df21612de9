namespace Conduit.Grains.Agents;

/// <summary>
/// A request id seen by an agent and when it arrived: first the request in flight, then only its answer. Once
/// answered, the entry lets go of the forwarding task (which holds the request and everything it touched), so a
/// remembered id costs its id and its response and little else, for the whole window.
/// </summary>
internal sealed class DedupEntry(string id, Task<ForwardResult> running, DateTimeOffset seenAt)
{
    private Task<ForwardResult>? _running = running;
    private string? _response;

    /// <summary>The client's id, as JSON.</summary>
    public string Id { get; } = id;

    /// <summary>When the request arrived.</summary>
    public DateTimeOffset SeenAt { get; } = seenAt;

    /// <summary>True once the request has completed, whether or not <see cref="Keep"/> was called yet.</summary>
    public bool IsCompleted => _running is not { IsCompleted: false };

    /// <summary>The response: at once if answered, else when the request in flight completes (a duplicate joins it).</summary>
    public async ValueTask<string?> ResponseAsync()
        => _running is { } running ? (await running).Response : _response;

    /// <summary>Keeps only the answer; the request's task may be collected.</summary>
    public void Keep(string? response)
    {
        _response = response;
        _running = null;
    }
}

/// <summary>A forwarded request's response and whether it may be served again from the cache.</summary>
/// <param name="Response">The response JSON with the client's id, or null for a notification.</param>
/// <param name="Cacheable">True when the upstream answered; service errors (-3200x) are not cached, so a retry is forwarded again.</param>
internal readonly record struct ForwardResult(string? Response, bool Cacheable);
