namespace Conduit.Tests.Infrastructure;

/// <summary>Bounded polling for conditions that real sockets make true asynchronously.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms; fails after <paramref name="timeout"/> (default 10 s).</summary>
    public static Task TrueAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null)
        => TrueAsync(() => Task.FromResult(condition()), timeout, because);

    /// <summary>
    /// Polls an asynchronous <paramref name="condition"/> (a grain call, an HTTP request) every 10 ms; fails after
    /// <paramref name="timeout"/> (default 10 s). Awaited, not blocked on: a blocked thread-pool thread, in a process that
    /// also runs the servers under test, can stall them for seconds.
    /// </summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(because ?? "The condition did not become true in time.");
            }

            await Task.Delay(10);
        }
    }
}
