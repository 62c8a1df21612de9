using Conduit.Runtime;

namespace Conduit.Benchmarks.Runtime;

/// <summary>The grain the call benchmarks call: a counter, the same work as the channel baseline.</summary>
public interface IBenchCounterGrain : IGrainWithStringKey
{
    /// <summary>Adds one and returns the new value.</summary>
    Task<int> Increment();
}

/// <summary>Implements <see cref="IBenchCounterGrain"/>.</summary>
public sealed class BenchCounterGrain : Grain, IBenchCounterGrain
{
    private int _value;

    /// <inheritdoc />
    public Task<int> Increment() => Task.FromResult(++_value);
}
