using System.Text;

namespace Conduit.Grains.Agents;

/// <summary>
/// One agent's memory of request ids (DESIGN section 5): a repeated id within the window joins the request in
/// flight or gets the cached response. Bounded in time and in count: ids are forgotten oldest first, when they
/// leave the window or when more than <see cref="AgentOptions.DedupMaxEntries"/> are remembered, but never while
/// their request is still in flight (those are bounded by the agent's in-flight requests). Large responses are
/// shared while in flight but not kept. Not thread-safe: it lives inside one grain's turns.
/// </summary>
internal sealed class DedupCache(AgentOptions options)
{
    private readonly Dictionary<string, DedupEntry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<DedupEntry> _arrivals = new();
    private readonly bool _enabled = options.DedupMaxEntries > 0 && options.DedupWindow > TimeSpan.Zero;

    /// <summary>Ids remembered now.</summary>
    public int Count => _entries.Count;

    /// <summary>The entry of <paramref name="id"/> if it arrived within the window.</summary>
    public bool TryGet(string id, DateTimeOffset now, out DedupEntry entry)
        => _entries.TryGetValue(id, out entry!) && now - entry.SeenAt < options.DedupWindow;

    /// <summary>Remembers a request that was just forwarded, and forgets what the bounds say to forget.</summary>
    public void Add(DedupEntry entry, DateTimeOffset now)
    {
        if (!_enabled)
        {
            return;
        }

        _entries[entry.Id] = entry;
        _arrivals.Enqueue(entry);
        Trim(now);
    }

    /// <summary>Called with the outcome of <paramref name="entry"/>: drops it if it may not or should not be served again.</summary>
    public void Completed(DedupEntry entry, ForwardResult result)
    {
        entry.Keep(result.Response);
        if (!result.Cacheable || IsTooLarge(result.Response))
        {
            Forget(entry);
        }
    }

    /// <summary>Forgets answered ids that left the window or exceed the count bound, oldest first.</summary>
    public void Trim(DateTimeOffset now)
    {
        while (_arrivals.TryPeek(out var oldest)
               && (_arrivals.Count > options.DedupMaxEntries || now - oldest.SeenAt >= options.DedupWindow)
               && oldest.IsCompleted)
        {
            _arrivals.Dequeue();
            Forget(oldest);
        }
    }

    private void Forget(DedupEntry entry)
    {
        // A later request may have reused the id: only its own entry goes.
        if (_entries.TryGetValue(entry.Id, out var current) && ReferenceEquals(current, entry))
        {
            _entries.Remove(entry.Id);
        }
    }

    private bool IsTooLarge(string? response)
    {
        var max = options.DedupMaxResponseBytes;
        return response is not null
               && response.Length > max / 3 // a UTF-16 char is at most 3 UTF-8 bytes
               && (response.Length > max || Encoding.UTF8.GetByteCount(response) > max);
    }
}
