using System.Collections.Frozen;
using System.Reflection;

namespace Conduit.Runtime.Metadata;

/// <summary>A grain or observer interface: its grain type name and its methods.</summary>
internal sealed class GrainInterface
{
    private readonly FrozenDictionary<MethodInfo, GrainMethod> _byMethod;
    private readonly FrozenDictionary<string, GrainMethod> _byKey;

    public GrainInterface(Type interfaceType)
    {
        if (!interfaceType.IsInterface || !typeof(IAddressable).IsAssignableFrom(interfaceType))
        {
            throw new ArgumentException($"{interfaceType.FullName} is not a grain or observer interface.", nameof(interfaceType));
        }

        InterfaceType = interfaceType;
        IsObserver = typeof(IGrainObserver).IsAssignableFrom(interfaceType);
        GrainType = interfaceType.GetCustomAttribute<GrainTypeAttribute>()?.GrainType ?? DefaultGrainType(interfaceType);
        var methods = new[] { interfaceType }.Concat(interfaceType.GetInterfaces())
            .SelectMany(i => i.GetMethods())
            .Select(m => new GrainMethod(this, m))
            .ToList();
        _byMethod = methods.ToFrozenDictionary(m => m.Method);
        _byKey = methods.GroupBy(m => m.Key).ToFrozenDictionary(g => g.Key, g => g.First());
    }

    /// <summary>The interface type.</summary>
    public Type InterfaceType { get; }

    /// <summary>Whether it is an observer interface.</summary>
    public bool IsObserver { get; }

    /// <summary>The grain type name used in grain ids.</summary>
    public string GrainType { get; }

    /// <summary>
    /// The first reference made for this interface; later ones are copies of it (see <see cref="Calls.GrainProxy"/>).
    /// Set at most a few times when threads race, and any of them serves.
    /// </summary>
    internal Calls.GrainProxy? ProxyPrototype { get; set; }

    /// <summary>Every method, including inherited ones.</summary>
    public IEnumerable<GrainMethod> Methods => _byMethod.Values;

    /// <summary>The method for an interface <see cref="MethodInfo"/>.</summary>
    public GrainMethod GetMethod(MethodInfo method)
        => _byMethod.TryGetValue(method, out var m) ? m : throw new ArgumentException($"{method.Name} is not a method of {InterfaceType.FullName}.");

    /// <summary>The method with a stable key, or null.</summary>
    public GrainMethod? FindMethod(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>"IPoolGrain" becomes "pool"; "IAgentObserver" becomes "agentobserver".</summary>
    public static string DefaultGrainType(Type interfaceType)
    {
        var name = interfaceType.Name;
        if (name.Length > 1 && name[0] == 'I' && char.IsUpper(name[1]))
        {
            name = name[1..];
        }

        if (name.EndsWith("Grain", StringComparison.Ordinal) && name.Length > "Grain".Length)
        {
            name = name[..^"Grain".Length];
        }

        return name.ToLowerInvariant();
    }
}
