namespace Conduit.Runtime;

/// <summary>Options of a grain timer.</summary>
public readonly record struct GrainTimerCreationOptions
{
    /// <summary>Creates options with a due time and a period.</summary>
    public GrainTimerCreationOptions(TimeSpan dueTime, TimeSpan period)
    {
        DueTime = dueTime;
        Period = period;
    }

    /// <summary>Delay before the first tick.</summary>
    public TimeSpan DueTime { get; init; }

    /// <summary>Time between the end of one tick and the start of the next; infinite for one tick.</summary>
    public TimeSpan Period { get; init; }

    /// <summary>Whether ticks may interleave with requests (default false: a tick waits like a request).</summary>
    public bool Interleave { get; init; }

    /// <summary>Whether a tick counts as use and so keeps the activation from idle collection (default false).</summary>
    public bool KeepAlive { get; init; }
}
