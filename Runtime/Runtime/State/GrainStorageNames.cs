namespace Conduit.Runtime.State;

/// <summary>Well-known grain storage names.</summary>
public static class GrainStorageNames
{
    /// <summary>The store used when [PersistentState] names none.</summary>
    public const string Default = "Default";
}
