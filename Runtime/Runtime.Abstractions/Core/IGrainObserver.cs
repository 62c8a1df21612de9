namespace Conduit.Runtime;

/// <summary>
/// Marker for observer interfaces: a client-side object that grains call like a grain.
/// Methods returning <c>void</c> are one-way; methods returning <see cref="Task"/> are awaited.
/// </summary>
public interface IGrainObserver : IAddressable;
