namespace Conduit.Runtime;

/// <summary>On a grain constructor parameter of type <see cref="IPersistentState{TState}"/>: which state and which store.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="stateName">The state's name within the grain.</param>
    /// <param name="storageName">The named store; null for the default store.</param>
    public PersistentStateAttribute(string stateName, string? storageName = null)
    {
        StateName = stateName;
        StorageName = storageName;
    }

    /// <summary>The state's name within the grain.</summary>
    public string StateName { get; }

    /// <summary>The named store; null for the default store.</summary>
    public string? StorageName { get; }
}
