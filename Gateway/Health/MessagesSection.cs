namespace Conduit.Gateway.Health;

/// <summary>Message counters of this gateway.</summary>
internal sealed record MessagesSection(long Received, long RequestsCompleted, long RequestErrors, long FramesSent, long RateLimited, long ParseErrors, long InvalidRequests, long TooBig);
