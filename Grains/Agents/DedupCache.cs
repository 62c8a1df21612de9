namespace Conduit.Grains.Agents;

/// <summary>
/// One agent's memory of request ids (DESIGN section 5): a repeated id within the window joins the request in
/// flight or gets the cached response. Bounded in time, count and bytes: answered ids are forgotten oldest first (in
/// the order they were answered) when they leave the window, when more than <see cref="AgentOptions.DedupMaxEntries"/>
/// ids are remembered or when their bytes exceed <see cref="AgentOptions.DedupMaxBytes"/>; ids in flight are never
/// forgotten (they are bounded by the agent's in-flight requests). Large responses are shared while in flight but not
/// kept. The requests in flight are objects (a duplicate waits on its <see cref="DedupEntry"/>); answered ids are kept
/// in <see cref="AnsweredIds"/>, without an object per id. A request whose forwarding threw is forgotten, so a retry is
/// forwarded again. A null id is never remembered. Both parts are made with their first id and let go once empty, so an agent whose socket is idle
/// holds neither. Not thread-safe: it lives inside one grain's turns.
/// </summary>
internal sealed class DedupCache(AgentOptions options)
{
    private readonly bool _enabled = options.DedupMaxEntries > 0 && options.DedupWindow > TimeSpan.Zero;
    private Dictionary<string, DedupEntry>? _inFlight;
    private AnsweredIds? _answered;

    /// <summary>Ids remembered now, in flight or answered.</summary>
    public int Count => (_inFlight?.Count ?? 0) + (_answered?.Count ?? 0);

    /// <summary>Whether nothing is held: the collections are let go then, so an agent that once was busy shrinks back when it goes quiet.</summary>
    public bool IsEmpty => _inFlight is null && _answered is null;

    /// <summary>The response to <paramref name="id"/> if it arrived within the window: its request's, or the one remembered.</summary>
    public bool TryGet(string id, DateTimeOffset now, out ValueTask<string?> response)
    {
        if (!Remembered(id))
        {
            response = default;
            return false;
        }

        if (_inFlight is not null && _inFlight.TryGetValue(id, out var running) && now - running.SeenAt < options.DedupWindow)
        {
            response = new ValueTask<string?>(running.ResponseAsync());
            return true;
        }

        if (_answered is not null && _answered.TryGet(id, (now - options.DedupWindow).UtcTicks, out var answer))
        {
            response = ValueTask.FromResult(answer);
            return true;
        }

        response = default;
        return false;
    }

    /// <summary>Remembers a request that is about to be forwarded (null when de-duplication is off), and forgets what the bounds say to forget.</summary>
    public DedupEntry? Add(string id, DateTimeOffset now)
    {
        if (!_enabled || !Remembered(id))
        {
            return null;
        }

        var entry = new DedupEntry(id, now);
        (_inFlight ??= new Dictionary<string, DedupEntry>(StringComparer.Ordinal))[id] = entry;
        Trim(now);
        return entry;
    }

    /// <summary>
    /// Called with the outcome of <paramref name="entry"/>: hands it to the duplicates waiting for it and keeps the answer
    /// if it may and should be served again.
    /// </summary>
    public void Completed(DedupEntry? entry, ForwardResult result, DateTimeOffset now)
    {
        if (entry is null)
        {
            return;
        }

        if (Forget(entry) && result.Cacheable)
        {
            // A response too large to keep leaves the store empty, and the trim below lets it go again.
            (_answered ??= new AnsweredIds()).TryAdd(entry.Id, result.Response, entry.SeenAt.UtcTicks, options.DedupMaxResponseBytes, options.DedupMaxBytes);
        }

        Trim(now);
        entry.Complete(result.Response);
    }

    /// <summary>
    /// Called when forwarding <paramref name="entry"/> threw: the id is forgotten, so that the client's retry is
    /// forwarded again, and the duplicates waiting for it get the same exception.
    /// </summary>
    public void Failed(DedupEntry? entry, Exception exception, DateTimeOffset now)
    {
        if (entry is null)
        {
            return;
        }

        Forget(entry);
        Trim(now);
        entry.Fail(exception);
    }

    /// <summary>Whether requests with this id are de-duplicated: not with a null id, which names no request (two of them are two requests).</summary>
    private static bool Remembered(string id) => id != "null";

    /// <summary>Removes a request from the ids in flight; false when a later request reused its id (this one left the window while in flight), whose entry stays.</summary>
    private bool Forget(DedupEntry entry)
    {
        if (_inFlight is null || !_inFlight.TryGetValue(entry.Id, out var current) || !ReferenceEquals(current, entry))
        {
            return false;
        }

        _inFlight.Remove(entry.Id); // the dictionary is kept while answered ids are: an agent with one request at a time would remake it per request
        return true;
    }

    /// <summary>Forgets answered ids that left the window or exceed the count or byte bound, oldest first.</summary>
    public void Trim(DateTimeOffset now)
    {
        if (_answered is not null)
        {
            var cutoff = (now - options.DedupWindow).UtcTicks;
            while (_answered.Count > 0 && (Count > options.DedupMaxEntries || _answered.Bytes > options.DedupMaxBytes || _answered.OldestSeenAt <= cutoff))
            {
                _answered.RemoveOldest();
            }

            if (_answered.Count == 0)
            {
                _answered = null;
            }
        }

        if (_answered is null && _inFlight is { Count: 0 })
        {
            _inFlight = null;
        }
    }
}
