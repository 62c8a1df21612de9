namespace Conduit.Runtime;

/// <summary>Hands the context to a <see cref="Grain"/> constructor while the runtime constructs it.</summary>
public static class GrainContextAccessor
{
    [ThreadStatic]
    private static IGrainContext? _constructing;

    /// <summary>The context of the activation being constructed on this thread, if any.</summary>
    public static IGrainContext? Constructing => _constructing;

    /// <summary>Runs <paramref name="create"/> with <paramref name="context"/> visible to the grain's constructor.</summary>
    public static T Construct<T>(IGrainContext context, Func<T> create)
    {
        var previous = _constructing;
        _constructing = context;
        try
        {
            var instance = create();
            if (instance is Grain grain)
            {
                grain.GrainContext = context;
            }

            return instance;
        }
        finally
        {
            _constructing = previous;
        }
    }
}
