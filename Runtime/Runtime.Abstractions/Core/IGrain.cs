namespace Conduit.Runtime;

/// <summary>Marker for grain interfaces.</summary>
public interface IGrain : IAddressable;
