using System.Reflection;
using Conduit.Runtime.Metadata;

namespace Conduit.Runtime.Calls;

/// <summary>
/// The object behind a grain or observer reference: a <see cref="DispatchProxy"/> that turns each
/// interface call into a message. Two references are equal when they address the same grain.
/// </summary>
public class GrainProxy : DispatchProxy
{
    private RuntimeClient? _client;
    private GrainInterface? _interface;

    /// <summary>The addressed grain or observer.</summary>
    public GrainId GrainId { get; private set; }

    internal GrainInterface Interface => _interface!;

    internal static TInterface Create<TInterface>(RuntimeClient client, GrainInterface grainInterface, GrainId grainId)
    {
        // DispatchProxy.Create binds the generated class's constructor by reflection on every call (about 1 KB of garbage
        // per reference). The generated class only keeps what that constructor shares between all its instances, so a
        // shallow copy of one prototype is the same object, made without reflection.
        var prototype = grainInterface.ProxyPrototype ??= (GrainProxy)Create(grainInterface.InterfaceType, typeof(GrainProxy));
        var proxy = (GrainProxy)prototype.MemberwiseClone();
        proxy._client = client;
        proxy._interface = grainInterface;
        proxy.GrainId = grainId;
        return (TInterface)(object)proxy;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return _client!.Invoke(GrainId, _interface!.GetMethod(targetMethod), args ?? []);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GrainProxy other && other.GrainId == GrainId;

    /// <inheritdoc />
    public override int GetHashCode() => GrainId.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => $"{_interface?.InterfaceType.Name}:{GrainId}";
}
