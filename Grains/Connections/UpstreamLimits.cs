namespace Conduit.Grains.Connections;

/// <summary>Bounds on what an upstream may send.</summary>
public static class UpstreamLimits
{
    /// <summary>Default of <see cref="Pools.PoolOptions.MaxMessageBytes"/>: 16 MiB.</summary>
    public const int DefaultMaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>The smallest limit accepted: 1 KiB.</summary>
    public const int MinMaxMessageBytes = 1024;
}
