namespace Conduit.Gateway.Metrics;

/// <summary>The gateway's counters for one pool (all sockets on this gateway).</summary>
internal sealed class PoolTraffic
{
    public long ActiveSockets;
    public long OpenedSockets;
    public long MessagesReceived;
    public long RequestsCompleted;
    public long RequestErrors;
    public long InFlight;
}
