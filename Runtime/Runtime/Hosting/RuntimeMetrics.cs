using System.Diagnostics.Metrics;
using Conduit.Runtime.Activations;
using Microsoft.Extensions.Hosting;

namespace Conduit.Runtime.Hosting;

/// <summary>
/// The silo's meter "Conduit.Runtime", read when it is collected (nothing on the call path): the activations on this
/// silo by grain type (the cluster's own instruments: <see cref="ClusterMetrics"/>). Any exporter of "Conduit.*" meters
/// publishes them (the gateway's /metrics does).
/// </summary>
internal sealed class RuntimeMetrics(IMeterFactory meterFactory, SiloRuntime runtime) : IHostedService
{
    public const string MeterName = "Conduit.Runtime";

    /// <summary>Publishes the instruments (the meter factory disposes the meter with the host).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("conduit.runtime.activations", () => ActivationsByType(runtime.Catalog), description: "Grain activations on this silo, by grain type.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static IEnumerable<Measurement<long>> ActivationsByType(Catalog catalog)
        => catalog.ByType().Select(g => new Measurement<long>(g.Count(), new KeyValuePair<string, object?>("grain_type", g.Key)));
}
