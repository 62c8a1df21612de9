using Conduit.Runtime;

namespace Conduit.Benchmarks.Cluster;

/// <summary>The grain the remote-call benchmark calls.</summary>
public interface IBenchEchoGrain : IGrainWithStringKey
{
    /// <summary>Returns its argument.</summary>
    Task<string> Echo(string payload);
}

/// <summary>Echoes; no state, so the call cost is the runtime's and the transport's.</summary>
internal sealed class BenchEchoGrain : Grain, IBenchEchoGrain
{
    public Task<string> Echo(string payload) => Task.FromResult(payload);
}
