using System.Reflection;

namespace Conduit.Runtime.Metadata;

/// <summary>A grain class: what it implements, its reentrancy and its collection age.</summary>
internal sealed class GrainClass
{
    public GrainClass(Type classType, GrainInterface primaryInterface, TimeSpan defaultCollectionAge)
    {
        ClassType = classType;
        Interface = primaryInterface;
        IsReentrant = classType.IsDefined(typeof(ReentrantAttribute), inherit: true);
        var age = classType.GetCustomAttribute<CollectionAgeLimitAttribute>();
        CollectionAge = age switch
        {
            { AlwaysActive: true } => Timeout.InfiniteTimeSpan,
            { } a when a.Amount > TimeSpan.Zero => a.Amount,
            _ => defaultCollectionAge,
        };
        Constructor = classType.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault()
            ?? throw new InvalidOperationException($"Grain class {classType.FullName} has no public constructor.");
    }

    /// <summary>The class.</summary>
    public Type ClassType { get; }

    /// <summary>The grain interface whose grain type this class serves.</summary>
    public GrainInterface Interface { get; }

    /// <summary>Whether the class is marked [Reentrant].</summary>
    public bool IsReentrant { get; }

    /// <summary>Idle time after which an activation is collected; infinite for never.</summary>
    public TimeSpan CollectionAge { get; }

    /// <summary>The constructor used for activation (the one with the most parameters).</summary>
    public ConstructorInfo Constructor { get; }
}
