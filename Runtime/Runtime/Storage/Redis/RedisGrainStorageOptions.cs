namespace Conduit.Runtime.Storage.Redis;

/// <summary>Where a Redis grain store keeps its records.</summary>
public sealed class RedisGrainStorageOptions
{
    /// <summary>StackExchange.Redis connection string. Default "127.0.0.1:6379" (or the clustering one when <c>UseRedisClustering</c> came first).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Key prefix part: keys are "conduit:{ServiceId}:state:{store}:{state}:{grain}". Default: the cluster id, else "default".</summary>
    public string? ServiceId { get; set; }

    /// <summary>Longest wait for one Redis operation. Default 5 s.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
