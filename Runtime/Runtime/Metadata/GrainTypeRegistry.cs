using System.Collections.Concurrent;
using System.Reflection;
using Conduit.Runtime.Hosting;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Metadata;

/// <summary>
/// Maps grain interfaces to grain type names and grain type names to the classes this silo can
/// activate. Interfaces are described lazily (a gateway knows interfaces it has never registered).
/// </summary>
internal sealed class GrainTypeRegistry
{
    private readonly ConcurrentDictionary<Type, GrainInterface> _interfaces = new();
    private readonly Dictionary<string, GrainClass> _classes = new(StringComparer.Ordinal);

    public GrainTypeRegistry(IEnumerable<GrainAssembly> assemblies, IOptions<SiloOptions> options)
    {
        foreach (var assembly in assemblies.Select(a => a.Assembly).Distinct())
        {
            foreach (var type in assembly.GetTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(Grain).IsAssignableFrom(t)))
            {
                foreach (var grainInterface in type.GetInterfaces().Where(IsGrainInterface))
                {
                    var described = GetInterface(grainInterface);
                    if (_classes.TryGetValue(described.GrainType, out var existing) && existing.ClassType != type)
                    {
                        throw new InvalidOperationException(
                            $"Grain type '{described.GrainType}' is implemented by both {existing.ClassType.FullName} and {type.FullName}; give one interface a [GrainType].");
                    }

                    _classes[described.GrainType] = new GrainClass(type, described, options.Value.CollectionAge);
                }
            }
        }
    }

    /// <summary>The grain types this silo can activate.</summary>
    public IReadOnlyCollection<string> GrainTypes => _classes.Keys;

    /// <summary>Describes a grain or observer interface (cached).</summary>
    public GrainInterface GetInterface(Type interfaceType) => _interfaces.GetOrAdd(interfaceType, static t => new GrainInterface(t));

    /// <summary>The class registered for a grain type, or null.</summary>
    public GrainClass? FindClass(string grainType) => _classes.GetValueOrDefault(grainType);

    private static bool IsGrainInterface(Type type)
        => type != typeof(IGrainWithStringKey) && typeof(IGrainWithStringKey).IsAssignableFrom(type);
}

/// <summary>An assembly whose grain classes a silo hosts (registered by <c>AddGrains</c>).</summary>
internal sealed record GrainAssembly(Assembly Assembly);
