namespace Conduit.Grains.Agents;

/// <summary>
/// A request id in flight. A duplicate that arrives before the answer waits for it here; the completion source it
/// waits on is made only then, so a request without a duplicate (nearly all of them) allocates none. Once answered,
/// the entry goes and only the id and its answer are kept (<see cref="AnsweredIds"/>).
/// </summary>
internal sealed class DedupEntry(string id, DateTimeOffset seenAt)
{
    private TaskCompletionSource<string?>? _duplicates;

    /// <summary>The client's id, as JSON.</summary>
    public string Id { get; } = id;

    /// <summary>When the request arrived.</summary>
    public DateTimeOffset SeenAt { get; } = seenAt;

    /// <summary>The response, when the request in flight completes (or its failure).</summary>
    public Task<string?> ResponseAsync()
        => (_duplicates ??= new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Hands the response to the duplicates waiting for it, if any.</summary>
    public void Complete(string? response) => _duplicates?.TrySetResult(response);

    /// <summary>Hands the request's failure to the duplicates waiting for it, if any.</summary>
    public void Fail(Exception exception) => _duplicates?.TrySetException(exception);
}

/// <summary>A forwarded request's response and whether it may be served again from the cache.</summary>
/// <param name="Response">The response JSON with the client's id, or null for a notification.</param>
/// <param name="Cacheable">True when the upstream answered; service errors (-3200x) are not cached, so a retry is forwarded again.</param>
internal readonly record struct ForwardResult(string? Response, bool Cacheable);
