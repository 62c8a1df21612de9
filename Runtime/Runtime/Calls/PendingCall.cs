using Conduit.Runtime.Messaging;

namespace Conduit.Runtime.Calls;

/// <summary>
/// The completion of one call, typed as the caller awaits it. Continuations run asynchronously so that
/// a caller's code never runs inline on the thread (and inside the turn) of the grain that answered.
/// </summary>
internal sealed class PendingCall<T>() : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingCall
{
    Task IPendingCall.Task => Task;

    public Message? Message { get; set; }

    public long Deadline { get; set; }

    public void Complete(object? result, Exception? exception)
    {
        if (exception is not null)
        {
            TrySetException(exception);
        }
        else if (result is null)
        {
            TrySetResult(default!);
        }
        else if (result is T typed)
        {
            TrySetResult(typed);
        }
        else
        {
            TrySetException(new InvalidCastException($"Call {Message} returned a {result.GetType().FullName} where a {typeof(T).FullName} was expected."));
        }
    }
}
