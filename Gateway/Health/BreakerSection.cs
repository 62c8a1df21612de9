namespace Conduit.Gateway.Health;

/// <summary>Pool circuit breakers not closed (open, half-open or isolated), from the pools.</summary>
internal sealed record BreakerSection(int Open, Dictionary<string, string> PerPool);
