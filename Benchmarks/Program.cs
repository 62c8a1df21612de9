using System.Reflection;
using Conduit.Benchmarks.Harness;

// Usage: dotnet run -c Release --project Benchmarks -- <scenario|all|list> [--duration SECONDS] [--quick]
var scenarios = typeof(IBenchmarkScenario).Assembly.GetTypes()
    .Where(t => typeof(IBenchmarkScenario).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmarkScenario)Activator.CreateInstance(t)!)
    .OrderBy(s => s.Name, StringComparer.Ordinal)
    .ToList();

var name = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "list";
var quick = args.Contains("--quick");
var duration = TimeSpan.FromSeconds(quick ? 1 : 5);
var durationIndex = Array.IndexOf(args, "--duration");
if (durationIndex >= 0)
{
    if (durationIndex + 1 >= args.Length || !double.TryParse(args[durationIndex + 1], out var seconds) || seconds <= 0)
    {
        Console.Error.WriteLine("--duration takes a positive number of seconds.");
        return 2;
    }

    duration = TimeSpan.FromSeconds(seconds);
}

if (name == "list")
{
    foreach (var s in scenarios)
    {
        Console.WriteLine($"{s.Name,-24} {s.Description}");
    }

    return 0;
}

var selected = name == "all" ? scenarios : scenarios.Where(s => s.Name == name).ToList();
if (selected.Count == 0)
{
    Console.Error.WriteLine($"Unknown scenario '{name}'. Known: {string.Join(", ", scenarios.Select(s => s.Name))}, all, list.");
    return 2;
}

var context = new BenchmarkContext(duration, quick, Console.Out);
foreach (var scenario in selected)
{
    Console.WriteLine($"== {scenario.Name}: {scenario.Description}");
    await scenario.RunAsync(context);
}

return 0;
