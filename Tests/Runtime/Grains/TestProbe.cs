using System.Collections.Concurrent;
using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

/// <summary>A singleton the test grains report to, so tests can see inside the silo.</summary>
public sealed class TestProbe
{
    public ConcurrentQueue<(GrainId Grain, DeactivationReasonCode Reason)> Deactivations { get; } = new();

    public ConcurrentQueue<GrainId> Activations { get; } = new();

    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>A gate that grains await; tests open it.</summary>
    public TaskCompletionSource Gate { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int TickCount;

    public int TicksRunning;

    public int MaxTicksRunning;
}
