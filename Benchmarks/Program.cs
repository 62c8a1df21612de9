using System.Reflection;
using Conduit.Benchmarks.Harness;

// Usage: dotnet run -c Release --project Benchmarks -- <scenario|all|list> [--duration SECONDS] [--quick] [--allocations] [--pinned]
var scenarios = typeof(IBenchmarkScenario).Assembly.GetTypes()
    .Where(t => typeof(IBenchmarkScenario).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmarkScenario)Activator.CreateInstance(t)!)
    .OrderBy(s => s.Name, StringComparer.Ordinal)
    .ToList();

var name = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "list";
if (name == Conduit.Benchmarks.Gateway.BareRelay.ChildCommand)
{
    return await Conduit.Benchmarks.Gateway.BareRelay.RunChildAsync(args); // the gateway scenario's relay process
}

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

// --pinned: this process on CPU 0 and the processes it measures on CPU 1 (BenchmarkContext.Pinned); two CPUs at least.
// The marker is set in the environment of the run restarted under taskset (which sees one CPU).
const string PinnedMarker = "CONDUIT_BENCH_PINNED";
var pinned = args.Contains("--pinned");
if (pinned && Environment.ProcessorCount < 2 && Environment.GetEnvironmentVariable(PinnedMarker) is null)
{
    Console.Error.WriteLine("--pinned needs two CPUs at least: one for the load, one for the process measured.");
    return 2;
}

// Tiered JIT: call counting for the optimizing tier starts only 100 ms after the last tier-0 compilation, and a short
// benchmark process keeps compiling, so much of the measured code could still run unoptimized (a profile showed it).
// The benchmarks run with that delay at 0 so that the warm-up reaches the steady state a long-running silo is in; the
// child silo of the gateway benchmark inherits it. Set the variable yourself to choose another value. A pinned run
// restarts under taskset, so that every thread of the runtime is on the load's CPU from the start.
const string TieringDelay = "DOTNET_TC_CallCountingDelayMs";
if (Environment.GetEnvironmentVariable(TieringDelay) is null || (pinned && Environment.GetEnvironmentVariable(PinnedMarker) is null))
{
    var start = SelfProcess.StartInfo(args, pinned ? BenchmarkContext.LoadCpus : null);
    start.Environment[TieringDelay] = Environment.GetEnvironmentVariable(TieringDelay) ?? "0";
    if (pinned)
    {
        start.Environment[PinnedMarker] = "1";
    }

    using var child = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("The benchmark could not restart itself.");
    await child.WaitForExitAsync();
    return child.ExitCode;
}

Console.WriteLine($"({TieringDelay}={Environment.GetEnvironmentVariable(TieringDelay)}; {Environment.ProcessorCount} cores{(pinned ? $" (pinned to CPU {BenchmarkContext.LoadCpus})" : string.Empty)}; load average {LoadAverage()})");
var context = new BenchmarkContext(duration, quick, Console.Out, pinned);
using var sampler = args.Contains("--allocations") ? new AllocationSampler() : null;
AllocationSampler.Active = sampler;
foreach (var scenario in selected)
{
    Console.WriteLine($"== {scenario.Name}: {scenario.Description}");
    await scenario.RunAsync(context);
}

sampler?.Write(Console.Out);

return 0;

static string LoadAverage()
{
    try
    {
        return File.ReadAllText("/proc/loadavg").Split(' ')[0];
    }
    catch (IOException)
    {
        return "unknown";
    }
}
