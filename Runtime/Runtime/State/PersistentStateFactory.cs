using System.Collections.Concurrent;

namespace Conduit.Runtime.State;

/// <summary>Creates <see cref="PersistentState{TState}"/> for a state type known only at run time.</summary>
internal static class PersistentStateFactory
{
    private static readonly ConcurrentDictionary<Type, Func<string, GrainId, IGrainStorage, IStateLoader>> _factories = new();

    /// <summary>The factory for states of <paramref name="stateType"/>.</summary>
    public static Func<string, GrainId, IGrainStorage, IStateLoader> For(Type stateType)
        => _factories.GetOrAdd(stateType, static t =>
        {
            var method = typeof(PersistentStateFactory).GetMethod(nameof(Create), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(t);
            return method.CreateDelegate<Func<string, GrainId, IGrainStorage, IStateLoader>>();
        });

    private static IStateLoader Create<TState>(string name, GrainId grainId, IGrainStorage storage)
        where TState : new()
        => new PersistentState<TState>(name, grainId, storage);
}
