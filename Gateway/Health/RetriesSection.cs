namespace Conduit.Gateway.Health;

/// <summary>Upstream connections being (re)connected with backoff, from the pools.</summary>
internal sealed record RetriesSection(int Reconnecting, Dictionary<string, int> PerPool);
