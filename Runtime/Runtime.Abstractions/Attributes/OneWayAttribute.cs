namespace Conduit.Runtime;

/// <summary>On an interface method returning Task: the caller does not wait; the call returns at once.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneWayAttribute : Attribute;
