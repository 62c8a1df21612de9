namespace Conduit.Runtime;

/// <summary>Anything the runtime can address and call: grains and observers.</summary>
public interface IAddressable;
