namespace Conduit.Grains;

/// <summary>The answer to <see cref="MessageBudgetRequest"/>.</summary>
/// <param name="Granted">Messages the gateway may pass (0 when the tenant's budget is used up).</param>
/// <param name="RetryAfterMs">When nothing was granted: when the next message will be available.</param>
/// <param name="ValidForMs">The gateway must not use the grant after this time (unused messages lapse).</param>
public sealed record MessageBudgetGrant(int Granted, long RetryAfterMs, long ValidForMs);
