namespace Conduit.Runtime.Cluster;

/// <summary>How a cluster client (a gateway process) finds and calls silos.</summary>
public sealed class ClusterClientOptions
{
    /// <summary>The cluster's id (Redis key prefix). Default "default".</summary>
    public string ClusterId { get; set; } = ClusterOptions.DefaultClusterId;

    /// <summary>Redis connection string of the membership table and directory; null to use <see cref="Silos"/> only. Default null.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Silo endpoints ("host:port") to use when there is no Redis. Default empty.</summary>
    public List<string> Silos { get; set; } = [];

    /// <summary>How often the client re-reads membership (or re-probes <see cref="Silos"/>). Default 2 s.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a silo that refused a connection is kept out of placement. Default 10 s.</summary>
    public TimeSpan UnreachableFor { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a call waits for its response. Default 30 s.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait for a TCP connection to a silo. Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait for one Redis operation. Default 5 s.</summary>
    public TimeSpan RedisOperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The cluster's shared key (<see cref="ClusterOptions.ClusterKey"/>), or null for none. Default null.</summary>
    public string? ClusterKey { get; set; }

    /// <summary>
    /// Keys whose proofs are accepted besides <see cref="ClusterKey"/>, to rotate the key without stopping the cluster:
    /// roll out the new key as accepted, then as the key (the old one accepted), then drop the old one. Default none.
    /// </summary>
    public List<string> AcceptedClusterKeys { get; set; } = [];

    /// <summary>Largest frame. Default 16 MiB.</summary>
    public int MaxFrameSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Every problem with the options, each naming the option and its bad value.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            errors.Add($"ClusterClient:ClusterId must be set (was '{ClusterId}').");
        }

        if (string.IsNullOrWhiteSpace(RedisConnectionString) && Silos.Count == 0)
        {
            errors.Add("ClusterClient: set RedisConnectionString or at least one entry in Silos (both were empty).");
        }

        foreach (var silo in Silos)
        {
            var colon = silo.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(silo.AsSpan(colon + 1), out var port) || port is <= 0 or > 65535)
            {
                errors.Add($"ClusterClient:Silos entry '{silo}' is not 'host:port'.");
            }
        }

        foreach (var (name, value) in new[] { (nameof(RefreshInterval), RefreshInterval), (nameof(UnreachableFor), UnreachableFor), (nameof(ResponseTimeout), ResponseTimeout), (nameof(ConnectTimeout), ConnectTimeout), (nameof(RedisOperationTimeout), RedisOperationTimeout) })
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"ClusterClient:{name} must be positive (was {value}).");
            }
        }

        Transport.ClusterKeyProof.Validate("ClusterClient", ClusterKey, AcceptedClusterKeys, errors);

        if (MaxFrameSize < 1024)
        {
            errors.Add($"ClusterClient:MaxFrameSize must be at least 1024 (was {MaxFrameSize}).");
        }

        return errors;
    }
}
