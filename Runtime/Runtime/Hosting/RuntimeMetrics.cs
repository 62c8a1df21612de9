using System.Diagnostics.Metrics;
using Conduit.Runtime.Activations;
using Conduit.Runtime.Cluster;
using Conduit.Runtime.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Conduit.Runtime.Hosting;

/// <summary>
/// The silo's meter "Conduit.Runtime", read when it is collected (nothing on the call path): the activations on this
/// silo by grain type, and in a cluster the members of this silo's membership view by status. Any exporter of
/// "Conduit.*" meters publishes them (the gateway's /metrics does).
/// </summary>
internal sealed class RuntimeMetrics(IMeterFactory meterFactory, SiloRuntime runtime, IServiceProvider services) : IHostedService
{
    public const string MeterName = "Conduit.Runtime";

    /// <summary>Publishes the instruments (the meter factory disposes the meter with the host).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("conduit.runtime.activations", () => ActivationsByType(runtime.Catalog), description: "Grain activations on this silo, by grain type.");
        if (services.GetService<ClusterSiloService>() is { } cluster)
        {
            meter.CreateObservableUpDownCounter("conduit.cluster.silos", () => SilosByStatus(cluster.Membership?.View), description: "Silos in this silo's view of the membership table, by status.");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static IEnumerable<Measurement<long>> ActivationsByType(Catalog catalog)
        => catalog.ByType().Select(g => new Measurement<long>(g.Count(), new KeyValuePair<string, object?>("grain_type", g.Key)));

    private static IEnumerable<Measurement<long>> SilosByStatus(MembershipView? view)
        => Enum.GetValues<SiloStatus>().Select(status => new Measurement<long>(
            view?.Snapshot.Entries.Count(e => e.Status == status) ?? 0,
            new KeyValuePair<string, object?>("status", status switch
            {
                SiloStatus.Joining => "joining",
                SiloStatus.Active => "active",
                SiloStatus.ShuttingDown => "shutting_down",
                _ => "dead",
            })));
}
