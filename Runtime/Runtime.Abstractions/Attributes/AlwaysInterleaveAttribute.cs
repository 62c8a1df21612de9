namespace Conduit.Runtime;

/// <summary>On an interface method: calls to it interleave with any other request of the grain.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;
