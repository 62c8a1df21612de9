namespace Conduit.Tests.Infrastructure;

/// <summary>
/// Faults of an <see cref="UpstreamServer"/>, switchable at any time from any thread. Each one applies
/// to what happens after it is set (a request already being answered keeps its delay).
/// </summary>
public sealed class UpstreamFaults
{
    private long _replyDelayTicks;
    private long _handshakeDelayTicks;
    private long _probeDelayTicks;
    private long _readStallTicks;
    private volatile bool _refuseConnections;
    private volatile bool _dropOnRequest;
    private volatile bool _sendGarbage;
    private volatile bool _neverAnswer;

    /// <summary>Delay before every reply (default none).</summary>
    public TimeSpan ReplyDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _replyDelayTicks));
        set => Interlocked.Exchange(ref _replyDelayTicks, value.Ticks);
    }

    /// <summary>Delay between the HTTP request and the WebSocket upgrade (default none).</summary>
    public TimeSpan HandshakeDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _handshakeDelayTicks));
        set => Interlocked.Exchange(ref _handshakeDelayTicks, value.Ticks);
    }

    /// <summary>Extra delay of the "ping" method only, the JSON-RPC health probe (default none).</summary>
    public TimeSpan ProbeDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _probeDelayTicks));
        set => Interlocked.Exchange(ref _probeDelayTicks, value.Ticks);
    }

    /// <summary>
    /// Pause before each socket read (default none). The server answers WebSocket pings while it reads,
    /// so this makes pongs (and everything else) slow.
    /// </summary>
    public TimeSpan ReadStall
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _readStallTicks));
        set => Interlocked.Exchange(ref _readStallTicks, value.Ticks);
    }

    /// <summary>Answer new connections with 503 before the upgrade.</summary>
    public bool RefuseConnections { get => _refuseConnections; set => _refuseConnections = value; }

    /// <summary>Abort the socket (no close handshake) when a request arrives, without answering it.</summary>
    public bool DropOnRequest { get => _dropOnRequest; set => _dropOnRequest = value; }

    /// <summary>Answer every request with a text frame that is not JSON.</summary>
    public bool SendGarbage { get => _sendGarbage; set => _sendGarbage = value; }

    /// <summary>Read and count requests but never answer them.</summary>
    public bool NeverAnswer { get => _neverAnswer; set => _neverAnswer = value; }

    /// <summary>Switches every fault off.</summary>
    public void Reset()
    {
        ReplyDelay = TimeSpan.Zero;
        HandshakeDelay = TimeSpan.Zero;
        ProbeDelay = TimeSpan.Zero;
        ReadStall = TimeSpan.Zero;
        RefuseConnections = false;
        DropOnRequest = false;
        SendGarbage = false;
        NeverAnswer = false;
    }
}
