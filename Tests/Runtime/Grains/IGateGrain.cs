using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

/// <summary>Calls that wait on the probe's gate, to hold a grain busy.</summary>
public interface IGateGrain : IGrainWithStringKey
{
    Task<string> WaitAtGate(string name);

    [ReadOnly]
    Task<string> ReadAtGate(string name);

    [AlwaysInterleave]
    Task<string> Interleaved(string name);

    [OneWay]
    Task FireAndForget(string name);
}

public class GateGrain(TestProbe probe) : Grain, IGateGrain
{
    public async Task<string> WaitAtGate(string name)
    {
        probe.Events.Enqueue($"start {name}");
        await probe.Gate.Task;
        probe.Events.Enqueue($"end {name}");
        return name;
    }

    public Task<string> ReadAtGate(string name) => WaitAtGate(name);

    public Task<string> Interleaved(string name)
    {
        probe.Events.Enqueue($"interleaved {name}");
        return Task.FromResult(name);
    }

    public Task FireAndForget(string name) => WaitAtGate(name);
}

public interface IReentrantGateGrain : IGrainWithStringKey
{
    Task<string> WaitAtGate(string name);
}

[Reentrant]
public sealed class ReentrantGateGrain(TestProbe probe) : Grain, IReentrantGateGrain
{
    public async Task<string> WaitAtGate(string name)
    {
        probe.Events.Enqueue($"start {name}");
        await probe.Gate.Task;
        probe.Events.Enqueue($"end {name}");
        return name;
    }
}
