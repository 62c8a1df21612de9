using System.Diagnostics.Metrics;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Membership;
using Microsoft.Extensions.Hosting;

namespace Conduit.Runtime.Hosting;

/// <summary>
/// The meter "Conduit.Cluster" of a silo or cluster client in a cluster, read when it is collected: the silos of this
/// process's membership view by status, and whether the membership table could be read. Nothing for a silo that runs
/// alone. Any exporter of "Conduit.*" meters publishes them (the gateway's /metrics does).
/// </summary>
internal sealed class ClusterMetrics(IMeterFactory meterFactory, IClusterStatus status) : IHostedService
{
    public const string MeterName = "Conduit.Cluster";

    private static readonly string[] Statuses = Enum.GetNames<SiloStatus>();

    /// <summary>Publishes the instruments (the meter factory disposes the meter with the host).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (status is SingleSiloStatus)
        {
            return Task.CompletedTask;
        }

        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("conduit.cluster.silos", SilosByStatus, description: "Silos in this process's membership view, by status (with a static list of silos: active and unreachable).");
        meter.CreateObservableUpDownCounter("conduit.cluster.store.reachable", StoreReachable, description: "1 when the last read of the membership table (Redis) succeeded, 0 while it fails; absent with a static list of silos.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private IEnumerable<Measurement<long>> SilosByStatus()
    {
        var report = status.GetStatus();
        var statuses = report.Mode == "static" ? ["Active", "Unreachable"] : Statuses;
        return statuses.Select(s => new Measurement<long>(
            report.Silos.Count(m => m.Status == s),
            new KeyValuePair<string, object?>("status", Label(s))));
    }

    private IEnumerable<Measurement<long>> StoreReachable()
        => status.GetStatus().Store is { } store ? [new Measurement<long>(store.Reachable ? 1 : 0)] : [];

    /// <summary>"ShuttingDown" becomes "shutting_down".</summary>
    private static string Label(string status)
        => string.Concat(status.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : string.Empty) + char.ToLowerInvariant(c) : c.ToString()));
}
