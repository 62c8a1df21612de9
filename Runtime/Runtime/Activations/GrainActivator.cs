using System.Collections.Concurrent;
using System.Reflection;
using Conduit.Runtime.Metadata;
using Conduit.Runtime.State;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Runtime.Activations;

/// <summary>
/// Creates grain instances through dependency injection: constructor parameters come from the silo's
/// services, except <see cref="IPersistentState{TState}"/> parameters marked [PersistentState], which get
/// a state bound to the named store, and <see cref="IGrainContext"/> / <see cref="IGrainFactory"/>.
/// </summary>
internal sealed class GrainActivator(IServiceProvider services)
{
    private readonly ConcurrentDictionary<Type, Func<IGrainContext, (object, IReadOnlyList<IStateLoader>)>> _factories = new();

    /// <summary>Creates the instance for <paramref name="context"/>; the returned states must be read before activation.</summary>
    public (object Instance, IReadOnlyList<IStateLoader> States) Create(GrainClass grainClass, IGrainContext context)
    {
        var factory = _factories.GetOrAdd(grainClass.ClassType, _ => BuildFactory(grainClass));
        return GrainContextAccessor.Construct(context, () => factory(context));
    }

    private Func<IGrainContext, (object, IReadOnlyList<IStateLoader>)> BuildFactory(GrainClass grainClass)
    {
        var constructor = grainClass.Constructor;
        var parameters = constructor.GetParameters();
        var resolvers = parameters.Select(p => BuildResolver(grainClass, p)).ToArray();
        return context =>
        {
            var states = new List<IStateLoader>();
            var args = new object?[resolvers.Length];
            for (var i = 0; i < resolvers.Length; i++)
            {
                args[i] = resolvers[i](context, states);
            }

            return (constructor.Invoke(args), states);
        };
    }

    private Func<IGrainContext, List<IStateLoader>, object?> BuildResolver(GrainClass grainClass, ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        if (parameter.GetCustomAttribute<PersistentStateAttribute>() is { } stateAttribute)
        {
            if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(IPersistentState<>))
            {
                throw new InvalidOperationException(
                    $"{grainClass.ClassType.Name}: parameter '{parameter.Name}' has [PersistentState] but is a {type.Name}, not an IPersistentState<T>.");
            }

            var stateType = type.GetGenericArguments()[0];
            var storageName = stateAttribute.StorageName ?? GrainStorageNames.Default;
            var factory = PersistentStateFactory.For(stateType);
            return (context, states) =>
            {
                var storage = services.GetKeyedService<IGrainStorage>(storageName)
                    ?? throw new InvalidOperationException(
                        $"{grainClass.ClassType.Name} needs grain storage '{storageName}' for state '{stateAttribute.StateName}', and none is registered (AddMemoryGrainStorage(\"{storageName}\")).");
                var state = factory(stateAttribute.StateName, context.GrainId, storage);
                states.Add(state);
                return state;
            };
        }

        if (type == typeof(IGrainContext))
        {
            return (context, _) => context;
        }

        if (type == typeof(IGrainFactory))
        {
            return (context, _) => context.GrainFactory;
        }

        return (_, _) => services.GetService(type)
            ?? (parameter.HasDefaultValue
                ? parameter.DefaultValue
                : throw new InvalidOperationException(
                    $"Cannot activate {grainClass.ClassType.Name}: no service of type {type.FullName} for constructor parameter '{parameter.Name}'."));
    }
}
