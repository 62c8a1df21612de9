namespace Conduit.Grains;

/// <summary>The answer to <see cref="SocketPermitRequest"/>.</summary>
/// <param name="Granted">Whether the socket may open.</param>
/// <param name="Tier">The tenant's tier.</param>
/// <param name="RetryAfterMs">When refused: how long the client should wait before trying again.</param>
/// <param name="MaxLifetimeMs">When granted: the longest the socket may stay open (the tier's limit).</param>
/// <param name="PermitTtlMs">When granted: the permit expires unless renewed within this time.</param>
public sealed record SocketPermitResult(bool Granted, string Tier, long RetryAfterMs, long MaxLifetimeMs, long PermitTtlMs);
