namespace Conduit.Runtime;

/// <summary>
/// On a grain interface: the grain type name used in grain ids. Default: the interface name without
/// the leading "I" and a trailing "Grain", lower-cased ("IPoolGrain" is "pool"). Grain ids come from
/// the interface because callers such as the gateway know interfaces only, never grain classes; each
/// grain interface has exactly one implementing class in a silo.
/// </summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class GrainTypeAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    public GrainTypeAttribute(string grainType) => GrainType = grainType;

    /// <summary>The grain type name.</summary>
    public string GrainType { get; }
}
