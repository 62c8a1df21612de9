namespace Conduit.Grains.Pools;

/// <summary>The last <c>capacity</c> keys added, oldest forgotten first. Not thread-safe: it lives inside one grain's turns.</summary>
internal sealed class RecentKeys(int capacity)
{
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>Whether <paramref name="key"/> is among the last keys added.</summary>
    public bool Contains(string key) => _keys.Contains(key);

    /// <summary>Remembers <paramref name="key"/>, forgetting the oldest key when full.</summary>
    public void Add(string key)
    {
        if (!_keys.Add(key))
        {
            return;
        }

        _order.Enqueue(key);
        if (_order.Count > capacity)
        {
            _keys.Remove(_order.Dequeue());
        }
    }
}
