namespace Conduit.Tests.Infrastructure;

/// <summary>Bounded polling for conditions that real sockets make true asynchronously.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms; fails after <paramref name="timeout"/> (default 10 s).</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(because ?? "The condition did not become true in time.");
            }

            await Task.Delay(10);
        }
    }
}
