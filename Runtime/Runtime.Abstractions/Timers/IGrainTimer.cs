namespace Conduit.Runtime;

/// <summary>A timer registered by a grain; disposing it stops further ticks.</summary>
public interface IGrainTimer : IDisposable
{
    /// <summary>Changes the due time and period; <see cref="Timeout.InfiniteTimeSpan"/> as period means one tick.</summary>
    void Change(TimeSpan dueTime, TimeSpan period);
}
