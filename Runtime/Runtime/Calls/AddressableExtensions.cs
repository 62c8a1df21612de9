using Conduit.Runtime.Calls;

namespace Conduit.Runtime;

/// <summary>Helpers on grain and observer references.</summary>
public static class AddressableExtensions
{
    /// <summary>The grain id a reference addresses.</summary>
    public static GrainId GetGrainId(this IAddressable reference)
        => reference is GrainProxy proxy
            ? proxy.GrainId
            : reference is Grain grain
                ? grain.GrainId
                : throw new ArgumentException($"{reference.GetType().Name} is not a grain reference.", nameof(reference));
}
