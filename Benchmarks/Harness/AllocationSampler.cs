using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Conduit.Benchmarks.Harness;

/// <summary>
/// With <c>--allocations</c>: listens to the runtime's allocation ticks (one sample about every 100 KB allocated, naming
/// the type that crossed the mark) and, per interleaved path, prints which types take the bytes. In-process paths only:
/// a child process's allocations are not seen. A diagnostic for finding what to cut, not a measurement to quote.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const int AllocationTickEvent = 10;
    private readonly ConcurrentDictionary<(string Path, string Type), long> _bytes = new();
    private volatile string? _path;

    /// <summary>The sampler of this run, or null when allocations are not sampled.</summary>
    public static AllocationSampler? Active { get; set; }

    /// <summary>Attributes the samples that follow to <paramref name="path"/> (null: to nothing).</summary>
    public void Attribute(string? path) => _path = path;

    /// <summary>Writes the types with the largest sampled share per path.</summary>
    public void Write(TextWriter output, int top = 12)
    {
        foreach (var path in _bytes.Keys.Select(k => k.Path).Distinct().Order(StringComparer.Ordinal))
        {
            var rows = _bytes.Where(e => e.Key.Path == path).OrderByDescending(e => e.Value).ToList();
            var total = rows.Sum(e => e.Value);
            output.WriteLine();
            output.WriteLine($"Allocation samples of '{path}' ({total / 1048576.0:F0} MiB sampled): type, share");
            foreach (var (key, bytes) in rows.Take(top))
            {
                output.WriteLine($"  {bytes * 100.0 / total,5:F1} %  {key.Type}");
            }
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: allocation ticks
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId != AllocationTickEvent || _path is not { } path || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var type = eventData.Payload![names.IndexOf("TypeName")] as string ?? "?";
        var amount = names.IndexOf("AllocationAmount64") is var i and >= 0 ? Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate((path, type), amount, (_, sum) => sum + amount);
    }
}
