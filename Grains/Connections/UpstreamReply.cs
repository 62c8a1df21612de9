namespace Conduit.Grains.Connections;

/// <summary>What became of one request sent on an <see cref="UpstreamConnection"/>.</summary>
internal enum UpstreamOutcome
{
    /// <summary>The upstream answered (the response may itself be a JSON-RPC error).</summary>
    Answered,

    /// <summary>A notification was written; nothing to answer.</summary>
    Sent,

    /// <summary>The socket was not open, nothing was written: safe to send elsewhere.</summary>
    NotSent,

    /// <summary>The socket died after the request was written: -32004.</summary>
    Failed,

    /// <summary>No answer within the request timeout: -32005.</summary>
    TimedOut,
}

/// <summary>
/// The outcome and the response text (with the caller's id restored, or an error object). <paramref name="Sequence"/>:
/// where an answer stands among the messages the socket handed out (<see cref="UpstreamConnection.StartSequence"/>), 0
/// for anything the upstream did not send.
/// </summary>
internal readonly record struct UpstreamReply(UpstreamOutcome Outcome, string? Response, long Sequence = 0);
