using System.Collections.Concurrent;
using Conduit.Grains;

namespace Conduit.Tests.Pools;

/// <summary>An agent observer that records what the agent pushes (stands in for the gateway's socket).</summary>
internal sealed class RecordingObserver : IAgentObserver
{
    public ConcurrentQueue<string> Messages { get; } = new();

    /// <summary>The places in the upstream's order that came with <see cref="Messages"/>, in the same order.</summary>
    public ConcurrentQueue<long> Sequences { get; } = new();

    public ConcurrentQueue<(int Code, string Reason)> Closes { get; } = new();

    public void OnUpstreamMessage(string message, long sequence)
    {
        Sequences.Enqueue(sequence);
        Messages.Enqueue(message);
    }

    public void OnClosed(int closeCode, string reason) => Closes.Enqueue((closeCode, reason));
}
