using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

public sealed class CounterState
{
    public int Value { get; set; }

    public List<string> History { get; set; } = [];
}

public interface IStateGrain : IGrainWithStringKey
{
    Task Set(int value, string note);

    Task<CounterState> Get();

    Task<string?> GetEtag();

    Task Clear();

    Task Deactivate();
}

public sealed class StateGrain([PersistentState("counter", "Default")] IPersistentState<CounterState> state) : Grain, IStateGrain
{
    public async Task Set(int value, string note)
    {
        state.State.Value = value;
        state.State.History.Add(note);
        await state.WriteStateAsync();
    }

    public Task<CounterState> Get() => Task.FromResult(state.State);

    public Task<string?> GetEtag() => Task.FromResult(state.Etag);

    public Task Clear() => state.ClearStateAsync();

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
