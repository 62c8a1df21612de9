using System.Text;

namespace Conduit.Grains.Agents;

/// <summary>
/// One agent's memory of request ids (DESIGN section 5): a repeated id within the window joins the request in
/// flight or gets the cached response. Bounded in time and in count: ids are forgotten oldest first, when they
/// leave the window or when more than <see cref="AgentOptions.DedupMaxEntries"/> are remembered, but never while
/// their request is still in flight (those are bounded by the agent's in-flight requests). Large responses are
/// shared while in flight but not kept. Its collections are made with the first id: an agent whose socket is idle
/// has never sent one. Not thread-safe: it lives inside one grain's turns.
/// </summary>
internal sealed class DedupCache(AgentOptions options)
{
    private readonly bool _enabled = options.DedupMaxEntries > 0 && options.DedupWindow > TimeSpan.Zero;
    private Dictionary<string, DedupEntry>? _entries;
    private Queue<DedupEntry>? _arrivals;

    /// <summary>Ids remembered now.</summary>
    public int Count => _entries?.Count ?? 0;

    /// <summary>
    /// Whether nothing is held, not even ids already forgotten that still wait for their turn to leave the arrival
    /// order. The collections are let go then, so an agent that once was busy shrinks back when it goes quiet.
    /// </summary>
    public bool IsEmpty => _arrivals is null;

    /// <summary>The entry of <paramref name="id"/> if it arrived within the window.</summary>
    public bool TryGet(string id, DateTimeOffset now, out DedupEntry entry)
    {
        entry = null!;
        return _entries is not null && _entries.TryGetValue(id, out entry!) && now - entry.SeenAt < options.DedupWindow;
    }

    /// <summary>Remembers a request that was just forwarded, and forgets what the bounds say to forget.</summary>
    public void Add(DedupEntry entry, DateTimeOffset now)
    {
        if (!_enabled)
        {
            return;
        }

        (_entries ??= new Dictionary<string, DedupEntry>(StringComparer.Ordinal))[entry.Id] = entry;
        (_arrivals ??= new Queue<DedupEntry>()).Enqueue(entry);
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
        while (_arrivals is not null
               && _arrivals.TryPeek(out var oldest)
               && (_arrivals.Count > options.DedupMaxEntries || now - oldest.SeenAt >= options.DedupWindow)
               && oldest.IsCompleted)
        {
            _arrivals.Dequeue();
            Forget(oldest);
        }

        if (_arrivals is { Count: 0 })
        {
            // Every id that is still remembered is also in the arrival order, so none is left either.
            _arrivals = null;
            _entries = null;
        }
    }

    private void Forget(DedupEntry entry)
    {
        // A later request may have reused the id: only its own entry goes.
        if (_entries is not null && _entries.TryGetValue(entry.Id, out var current) && ReferenceEquals(current, entry))
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
