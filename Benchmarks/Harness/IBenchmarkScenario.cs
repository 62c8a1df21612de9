namespace Conduit.Benchmarks.Harness;

/// <summary>One benchmark scenario, found by reflection and run by name: <c>dotnet run -c Release --project Benchmarks -- NAME</c>.</summary>
public interface IBenchmarkScenario
{
    /// <summary>The name used on the command line.</summary>
    string Name { get; }

    /// <summary>One line: what it measures and against which baseline.</summary>
    string Description { get; }

    /// <summary>Runs the scenario and prints its table (measured and baseline, with the ratio).</summary>
    Task RunAsync(BenchmarkContext context);
}
