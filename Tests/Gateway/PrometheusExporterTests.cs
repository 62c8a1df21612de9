using System.Diagnostics.Metrics;
using Conduit.Gateway.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Gateway;

public sealed class PrometheusExporterTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void Scrape_CounterGaugeHistogram_InTextFormat()
    {
        using var exporter = new PrometheusExporter(Factory);
        var meter = Factory.Create("Conduit.Test");
        var counter = meter.CreateCounter<long>("conduit.test.requests", description: "Requests.");
        var histogram = meter.CreateHistogram<double>("conduit.test.duration", unit: "s");
        var level = 7L;
        meter.CreateObservableGauge("conduit.test.level", () => new Measurement<long>(level, new KeyValuePair<string, object?>("pool", "a\"b")));

        counter.Add(2, new KeyValuePair<string, object?>("pool", "demo"));
        counter.Add(3, new KeyValuePair<string, object?>("pool", "demo"));
        counter.Add(1);
        histogram.Record(0.003);
        histogram.Record(0.001);
        histogram.Record(20);
        var text = exporter.Scrape();
        level = 9;
        var second = exporter.Scrape();

        Assert.Contains("# HELP conduit_test_requests_total Requests.\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE conduit_test_requests_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_requests_total{pool=\"demo\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_requests_total 1\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE conduit_test_duration_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_duration_seconds_bucket{le=\"0.001\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_duration_seconds_bucket{le=\"0.005\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_duration_seconds_bucket{le=\"+Inf\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_duration_seconds_count 3\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_level{pool=\"a\\\"b\"} 7\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_test_level{pool=\"a\\\"b\"} 9\n", second, StringComparison.Ordinal);
    }

    [Fact]
    public void Scrape_OtherHostsAndForeignMeters_NotIncluded()
    {
        using var exporter = new PrometheusExporter(Factory);
        using var otherServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        otherServices.GetRequiredService<IMeterFactory>().Create("Conduit.Test").CreateCounter<long>("conduit.other.host").Add(1);
        using var foreign = new Meter("System.Something");
        foreign.CreateCounter<long>("foreign.counter").Add(1);

        var text = exporter.Scrape();

        Assert.DoesNotContain("conduit_other_host", text, StringComparison.Ordinal);
        Assert.DoesNotContain("foreign", text, StringComparison.Ordinal);
    }

    [Fact]
    public void GatewayMetrics_PublishedNames_AreExported()
    {
        using var exporter = new PrometheusExporter(Factory);
        var metrics = new GatewayMetrics(Factory);
        Interlocked.Increment(ref metrics.ForPool("demo").ActiveSockets);
        metrics.Rejected("quota");
        metrics.Closed(1009);
        metrics.RequestDuration(TimeSpan.FromMilliseconds(2));

        var text = exporter.Scrape();

        Assert.Contains("conduit_gateway_sockets_active{pool=\"demo\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_gateway_sockets_rejected_total{reason=\"quota\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_gateway_sockets_closed_total{code=\"1009\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("conduit_gateway_request_duration_seconds_count 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuntimeMeter_ProcessCpuThreadPoolAndGc_AreExported()
    {
        using var exporter = new PrometheusExporter(Factory);
        var before = ThreadPool.CompletedWorkItemCount;
        await Task.Run(() => { });

        var text = exporter.Scrape();

        string[] expected =
        [
            "# TYPE dotnet_process_cpu_time_seconds_total counter\n",
            "dotnet_process_cpu_time_seconds_total{cpu_mode=\"user\"} ",
            "dotnet_gc_collections_total{gc_heap_generation=\"gen0\"} ",
            "# TYPE dotnet_thread_pool_queue_length gauge\n",
            "# TYPE dotnet_gc_heap_total_allocated_bytes_total counter\n",
            "# TYPE dotnet_process_memory_working_set_bytes gauge\n",
            "# TYPE dotnet_thread_pool_thread_count gauge\n",
        ];
        foreach (var line in expected)
        {
            Assert.Contains(line, text, StringComparison.Ordinal);
        }

        var workItems = text.Split('\n').Single(l => l.StartsWith("dotnet_thread_pool_work_item_count_total ", StringComparison.Ordinal));
        Assert.True(double.Parse(workItems.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) > before, workItems);
    }
}
