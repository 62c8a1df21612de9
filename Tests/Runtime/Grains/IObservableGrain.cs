using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

public interface IProbeObserver : IGrainObserver
{
    void OnMessage(string message);

    Task<string> Echo(string message);
}

public interface IObservableGrain : IGrainWithStringKey
{
    Task Subscribe(IProbeObserver observer);

    /// <summary>Sends <paramref name="count"/> numbered one-way messages, then asks for an echo.</summary>
    Task<string> Publish(int count);
}

public sealed class ObservableGrain : Grain, IObservableGrain
{
    private IProbeObserver? _observer;

    public Task Subscribe(IProbeObserver observer)
    {
        _observer = observer;
        return Task.CompletedTask;
    }

    public async Task<string> Publish(int count)
    {
        var observer = _observer ?? throw new InvalidOperationException("No observer subscribed.");
        for (var i = 0; i < count; i++)
        {
            observer.OnMessage($"m{i}");
        }

        return await observer.Echo("done");
    }
}
