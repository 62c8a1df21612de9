using Conduit.Gateway.Authentication;
using Conduit.Tests.Silo;

namespace Conduit.Benchmarks.Gateway;

/// <summary>
/// The real Silo executable (co-hosting the gateway) as a child process, so that its memory can be measured apart
/// from the benchmark's clients. Pool "bench" points at the given upstream; tenant "bench" has no practical limits.
/// The process handling is the tests' <see cref="SiloProcess"/>, linked into this project.
/// </summary>
internal sealed class SiloChildProcess(SiloProcess silo) : IAsyncDisposable
{
    public const string ApiKey = "bench-key";

    /// <summary>Environment variables with this prefix are passed to the silo without it (silo settings for experiments).</summary>
    public const string SettingPrefix = "CONDUIT_BENCH_SILO_";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public int Port => silo.Port;

    public int ProcessId => silo.ProcessId;

    public Uri SocketUri => new($"ws://127.0.0.1:{Port}/ws/bench");

    /// <summary>Starts the silo in front of <paramref name="upstream"/>, on <paramref name="cpus"/> only when given (<c>taskset -c</c>).</summary>
    public static async Task<SiloChildProcess> StartAsync(Uri upstream, string? cpus = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Demo__Enabled"] = "false",
            ["Pools__bench__Url"] = upstream.ToString(),
            ["Pools__bench__MinConnections"] = "4",
            ["Pools__bench__MaxConnections"] = "10",

            // 1,280 slots: room for the 1,000-client row's agents. With fewer slots than busy agents the row would measure
            // lease turnover (each waiter makes a holder give its slot back), not the gateway.
            ["Pools__bench__MaxInFlightPerConnection"] = "128",
            ["Tenants__bench__Tier"] = "bench",
            ["Tenants__bench__ApiKeyHashes__0"] = ApiKeyHash.ComputeHex(ApiKey),
            ["Quotas__Tiers__bench__MaxSockets"] = "100000",
            ["Quotas__Tiers__bench__MessagesPerMinute"] = "1000000000",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        // Any setting can be changed for an experiment: CONDUIT_BENCH_SILO_Agents__DedupMaxEntries=10 sets Agents:DedupMaxEntries.
        foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => ((string)e.Key, (string?)e.Value)))
        {
            if (name.StartsWith(SettingPrefix, StringComparison.Ordinal) && value is not null)
            {
                settings[name[SettingPrefix.Length..]] = value;
            }
        }

        // Ready when the pool's connections are up, not just when the process answers.
        return new SiloChildProcess(await SiloProcess.StartAsync("Production", settings, "/health/websocket", TimeSpan.FromSeconds(60), cpus));
    }

    /// <summary>What the silo has written so far (its log, at the level the settings above choose).</summary>
    public string Output => silo.Output;

    /// <summary>Resident set size of the child process, in bytes.</summary>
    public long ResidentBytes() => silo.ResidentBytes();

    /// <summary>
    /// The silo process's CPU time so far, and its thread-pool work items, allocations and GC pauses as its /metrics
    /// reports them (loopback is allowed without a key).
    /// </summary>
    public async Task<Harness.ProcessCounters> CountersAsync()
    {
        using var process = System.Diagnostics.Process.GetProcessById(ProcessId);
        var cpu = process.TotalProcessorTime;
        var lines = await MetricsAsync();
        return new Harness.ProcessCounters(
            cpu,
            (long)Metric(lines, "dotnet_thread_pool_work_item_count_total"),
            (long)Metric(lines, "dotnet_gc_heap_total_allocated_bytes_total"),
            TimeSpan.FromSeconds(Metric(lines, "dotnet_gc_pause_time_seconds_total")));
    }

    /// <summary>The managed heap after the silo's last garbage collection, all generations (from its /metrics).</summary>
    public async Task<long> HeapAfterLastCollectionAsync()
        => (long)SumOf(await MetricsAsync(), "dotnet_gc_last_collection_heap_size_bytes{");

    /// <summary>
    /// One reading of the silo's /metrics for a paced phase: the gateway's own view of request latency, arrival to answer
    /// (the cumulative counts of its <c>conduit_gateway_request_duration_seconds</c> histogram by upper bound in seconds,
    /// +Inf last, summed over pools), and its garbage collections so far (all generations) with their total pause.
    /// </summary>
    public async Task<SiloReading> ReadAsync()
    {
        const string bucket = "conduit_gateway_request_duration_seconds_bucket{";
        var lines = await MetricsAsync();
        var buckets = new SortedDictionary<double, long>();
        foreach (var line in lines.Where(l => l.StartsWith(bucket, StringComparison.Ordinal)))
        {
            var le = line.IndexOf("le=\"", StringComparison.Ordinal) + 4;
            var bound = line[le..line.IndexOf('"', le)];
            var key = bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, System.Globalization.CultureInfo.InvariantCulture);
            buckets[key] = buckets.GetValueOrDefault(key) + (long)Value(line);
        }

        return new SiloReading(buckets, (long)SumOf(lines, "dotnet_gc_collections_total{"), TimeSpan.FromSeconds(Metric(lines, "dotnet_gc_pause_time_seconds_total")));
    }

    /// <summary>The sum of a labelled series over its labels (<paramref name="prefix"/> is the name and its opening brace).</summary>
    private static double SumOf(string[] lines, string prefix) => lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Sum(Value);

    private static double Value(string line) => double.Parse(line.AsSpan(line.LastIndexOf(' ') + 1), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string[]> MetricsAsync() => (await Http.GetStringAsync($"http://127.0.0.1:{Port}/metrics")).Split('\n');

    private static double Metric(string[] lines, string name)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal) && l.Length > name.Length && l[name.Length] == ' ')
            ?? throw new InvalidOperationException("The silo's /metrics has no " + name);
        return double.Parse(line.AsSpan(name.Length + 1), System.Globalization.CultureInfo.InvariantCulture);
    }

    public ValueTask DisposeAsync() => silo.DisposeAsync();
}

/// <summary>What <see cref="SiloChildProcess.ReadAsync"/> read at one moment.</summary>
/// <param name="DurationBuckets">Cumulative request counts by the histogram's upper bound in seconds.</param>
/// <param name="Collections">Garbage collections so far, all generations.</param>
/// <param name="Paused">Their total pause so far.</param>
internal sealed record SiloReading(SortedDictionary<double, long> DurationBuckets, long Collections, TimeSpan Paused);
