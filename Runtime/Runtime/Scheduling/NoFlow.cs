namespace Conduit.Runtime.Scheduling;

/// <summary>Starts work that must not inherit the caller's execution context (its AsyncLocals).</summary>
internal static class NoFlow
{
    /// <summary>Runs <paramref name="action"/> with execution-context flow suppressed, so tasks it starts capture none.</summary>
    public static void Run<TState>(Action<TState> action, TState state)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            action(state);
            return;
        }

        using (ExecutionContext.SuppressFlow())
        {
            action(state);
        }
    }
}
