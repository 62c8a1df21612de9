using System.Diagnostics;

namespace Conduit.Tests.Infrastructure;

/// <summary>Bounded polling for conditions that other processes or real sockets make true.</summary>
public static class Retry
{
    /// <summary>Evaluates <paramref name="condition"/> every 25 ms until it is true (returns true) or <paramref name="timeout"/> passes (returns false); exceptions count as false.</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return true;
                }
            }
            catch (Exception) when (Stopwatch.GetElapsedTime(start) < timeout)
            {
                // Not yet.
            }

            if (Stopwatch.GetElapsedTime(start) >= timeout)
            {
                return false;
            }

            await Task.Delay(25);
        }
    }
}
