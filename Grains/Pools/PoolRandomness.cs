namespace Conduit.Grains.Pools;

/// <summary>
/// Where the pool and connection grains get their randomness (weighted and power-of-two-choices balancing, TTL
/// jitter, reconnect backoff jitter): one <see cref="Random"/> per activation, unseeded. Registered as a service so
/// that tests can seed it, randomness being one of the few things a test may fake.
/// </summary>
internal class PoolRandomness
{
    /// <summary>A new source for one activation.</summary>
    public virtual Random Create() => new();
}
