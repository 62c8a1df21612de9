namespace Conduit.Grains.Connections;

/// <summary>Bounds on what an upstream may send.</summary>
public static class UpstreamLimits
{
    /// <summary>
    /// Default of <see cref="Pools.PoolOptions.MaxMessageBytes"/>: 8 MiB, half the cluster transport's frame limit
    /// (<c>Cluster:MaxFrameSize</c>, 16 MiB), because in a cluster an answer crosses it as an escaped JSON string.
    /// </summary>
    public const int DefaultMaxMessageBytes = 8 * 1024 * 1024;

    /// <summary>The smallest limit accepted: 1 KiB.</summary>
    public const int MinMaxMessageBytes = 1024;
}
