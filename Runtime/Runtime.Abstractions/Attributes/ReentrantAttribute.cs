namespace Conduit.Runtime;

/// <summary>Lets the grain's requests interleave at their awaits (still one piece of code at a time).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class ReentrantAttribute : Attribute;
