namespace Conduit.Grains.Pools;

/// <summary>The pool names found under configuration section <c>Pools</c> at start-up.</summary>
internal sealed class PoolCatalog(IEnumerable<string> names)
{
    private readonly HashSet<string> _names = new(names, StringComparer.Ordinal);

    /// <summary>Every configured pool name.</summary>
    public IReadOnlyCollection<string> Names => _names;

    /// <summary>Whether <paramref name="name"/> is a configured pool (names are case-sensitive, as grain keys are).</summary>
    public bool IsConfigured(string name) => _names.Contains(name);
}
