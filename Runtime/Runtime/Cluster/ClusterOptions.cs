namespace Conduit.Runtime.Cluster;

/// <summary>How a silo joins a cluster (configuration section "Cluster").</summary>
public sealed class ClusterOptions
{
    /// <summary>The cluster id when none is configured.</summary>
    public const string DefaultClusterId = "default";

    /// <summary>Name of the cluster; the prefix of its Redis keys. Default "default".</summary>
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>StackExchange.Redis connection string of the membership table and directory. Default "127.0.0.1:6379".</summary>
    public string RedisConnectionString { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// Address the silo listens on for silos and clients. Default (unset): <see cref="AdvertisedHost"/> itself while that is
    /// a loopback address (<c>localhost</c>: 127.0.0.1), so that a cluster on one machine takes no calls from the network;
    /// "0.0.0.0" (every interface) once it advertises another address. Without <see cref="ClusterKey"/> the silo port
    /// trusts whoever connects; with it, only those who prove the key. It never encrypts (no TLS): keep it on a private
    /// network (docs/cluster.md, "Trust").
    /// </summary>
    public string? ListenAddress { get; set; }

    /// <summary>Host other silos and clients use to reach this silo (written to the membership table). Default "127.0.0.1".</summary>
    public string AdvertisedHost { get; set; } = "127.0.0.1";

    /// <summary>The address the silo listens on: <see cref="ListenAddress"/>, or its default (described there).</summary>
    public string EffectiveListenAddress
        => ListenAddress
            ?? (string.Equals(AdvertisedHost, "localhost", StringComparison.OrdinalIgnoreCase) ? "127.0.0.1"
                : System.Net.IPAddress.TryParse(AdvertisedHost, out var advertised) && System.Net.IPAddress.IsLoopback(advertised) ? advertised.ToString()
                : "0.0.0.0");

    /// <summary>TCP port for silos and clients; 0 takes a free port. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>How often a silo writes its heartbeat and reads the table. Default 2 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A silo whose heartbeat has not changed for this long is declared dead. Default 10 s; must exceed two heartbeats.</summary>
    public TimeSpan DeathTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait for one Redis operation before it counts as unavailable. Default 5 s.</summary>
    public TimeSpan RedisOperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for a TCP connection to another silo. Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest frame accepted or sent. Default 16 MiB.</summary>
    public int MaxFrameSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Dead rows older than this are deleted from the membership table. Default 1 h.</summary>
    public TimeSpan DefunctRowAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A secret shared by every silo and client of the cluster (at least 16 characters), or null (the default) for none.
    /// With it, a connection to the silo port must prove it knows the key before anything it sends is decoded, and the
    /// silo proves it back (HMAC-SHA256 over fresh nonces: the key never crosses the network). Traffic is still not
    /// encrypted (docs/cluster.md, "Trust").
    /// </summary>
    public string? ClusterKey { get; set; }

    /// <summary>
    /// Keys whose proofs are accepted besides <see cref="ClusterKey"/>, to rotate the key without stopping the cluster:
    /// roll out the new key as accepted, then as the key (the old one accepted), then drop the old one. Default none.
    /// </summary>
    public List<string> AcceptedClusterKeys { get; set; } = [];

    /// <summary>Place new activations of calls made on this silo here instead of by hash (Orleans' PreferLocalPlacement). Default false.</summary>
    public bool PreferLocalPlacement { get; set; }

    /// <summary>Every problem with the options, each naming the option and its bad value.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterId) || ClusterId.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"Cluster:ClusterId must be a non-empty name without spaces (was '{ClusterId}').");
        }

        if (string.IsNullOrWhiteSpace(RedisConnectionString))
        {
            errors.Add($"Cluster:RedisConnectionString must be set (was '{RedisConnectionString}').");
        }

        Transport.ClusterKeyProof.Validate("Cluster", ClusterKey, AcceptedClusterKeys, errors);

        if (ListenAddress is not null && !System.Net.IPAddress.TryParse(ListenAddress, out _))
        {
            errors.Add($"Cluster:ListenAddress must be an IP address (was '{ListenAddress}').");
        }

        if (string.IsNullOrWhiteSpace(AdvertisedHost) || AdvertisedHost.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"Cluster:AdvertisedHost must be a host name or address (was '{AdvertisedHost}').");
        }

        if (SiloPort is < 0 or > 65535)
        {
            errors.Add($"Cluster:SiloPort must be 0-65535 (was {SiloPort}).");
        }

        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            errors.Add($"Cluster:HeartbeatInterval must be positive (was {HeartbeatInterval}).");
        }

        if (DeathTimeout < HeartbeatInterval * 2)
        {
            errors.Add($"Cluster:DeathTimeout must be at least two heartbeat intervals ({HeartbeatInterval * 2}) (was {DeathTimeout}).");
        }

        if (RedisOperationTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Cluster:RedisOperationTimeout must be positive (was {RedisOperationTimeout}).");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Cluster:ConnectTimeout must be positive (was {ConnectTimeout}).");
        }

        if (MaxFrameSize < 1024)
        {
            errors.Add($"Cluster:MaxFrameSize must be at least 1024 bytes (was {MaxFrameSize}).");
        }

        if (DefunctRowAge <= TimeSpan.Zero)
        {
            errors.Add($"Cluster:DefunctRowAge must be positive (was {DefunctRowAge}).");
        }

        return errors;
    }
}
