using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds one, yielding in the middle so that any overlap would show; returns the new value.</summary>
    Task<int> Increment();

    /// <summary>How many times a call started while another was inside Increment.</summary>
    Task<int> GetOverlaps();

    Task<int> Get();

    /// <summary>Throws InvalidOperationException with <paramref name="message"/>.</summary>
    Task Fail(string message);
}

public sealed class CounterGrain : Grain, ICounterGrain
{
    private int _value;
    private int _inside;
    private int _overlaps;

    public async Task<int> Increment()
    {
        if (Interlocked.Increment(ref _inside) != 1)
        {
            Interlocked.Increment(ref _overlaps);
        }

        var before = _value;
        await Task.Yield();
        await Task.Delay(Random.Shared.Next(0, 2) == 0 ? 0 : 1);
        _value = before + 1;
        Interlocked.Decrement(ref _inside);
        return _value;
    }

    public Task<int> GetOverlaps() => Task.FromResult(_overlaps);

    public Task<int> Get() => Task.FromResult(_value);

    public Task Fail(string message) => throw new InvalidOperationException(message);
}
