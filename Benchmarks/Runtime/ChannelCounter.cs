using System.Threading.Channels;

namespace Conduit.Benchmarks.Runtime;

/// <summary>
/// The baseline for grain calls: the same counter behind a plain single-reader channel loop, answering
/// through a TaskCompletionSource with asynchronous continuations (as the runtime answers callers).
/// </summary>
public sealed class ChannelCounter : IAsyncDisposable
{
    private readonly Channel<TaskCompletionSource<int>> _channel = Channel.CreateUnbounded<TaskCompletionSource<int>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private int _value;

    /// <summary>Starts the loop.</summary>
    public ChannelCounter() => _loop = Task.Run(LoopAsync);

    /// <summary>Adds one and returns the new value.</summary>
    public Task<int> Increment()
    {
        var completion = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _channel.Writer.TryWrite(completion);
        return completion.Task;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop;
    }

    private async Task LoopAsync()
    {
        await foreach (var completion in _channel.Reader.ReadAllAsync())
        {
            completion.SetResult(++_value);
        }
    }
}
