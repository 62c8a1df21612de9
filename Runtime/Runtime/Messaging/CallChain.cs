namespace Conduit.Runtime.Messaging;

/// <summary>
/// The grains a request is (transitively) waiting on, newest last. Travels with every request so
/// that a non-reentrant grain called again from inside its own call chain fails at once instead of
/// waiting on itself.
/// </summary>
internal sealed class CallChain
{
    private CallChain(GrainId grainId, CallChain? parent)
    {
        GrainId = grainId;
        Parent = parent;
        Depth = (parent?.Depth ?? 0) + 1;
    }

    /// <summary>The grain that made the call.</summary>
    public GrainId GrainId { get; }

    /// <summary>The chain the caller itself was called in.</summary>
    public CallChain? Parent { get; }

    /// <summary>How many grains are in the chain.</summary>
    public int Depth { get; }

    /// <summary>Extends <paramref name="parent"/> with <paramref name="caller"/>.</summary>
    public static CallChain Extend(CallChain? parent, GrainId caller) => new(caller, parent);

    /// <summary>Whether <paramref name="grainId"/> is in the chain.</summary>
    public bool Contains(GrainId grainId)
    {
        for (var link = this; link is not null; link = link.Parent)
        {
            if (link.GrainId == grainId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The chain as ids, oldest first (for the wire and for messages).</summary>
    public IReadOnlyList<GrainId> ToList()
    {
        var list = new GrainId[Depth];
        var i = Depth;
        for (var link = this; link is not null; link = link.Parent)
        {
            list[--i] = link.GrainId;
        }

        return list;
    }

    /// <summary>Rebuilds a chain from the list written by <see cref="ToList"/>.</summary>
    public static CallChain? FromList(IEnumerable<GrainId> ids)
    {
        CallChain? chain = null;
        foreach (var id in ids)
        {
            chain = Extend(chain, id);
        }

        return chain;
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(" -> ", ToList());
}
