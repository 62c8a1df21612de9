namespace Conduit.Benchmarks.Harness;

/// <summary>What a scenario gets from the command line.</summary>
/// <param name="Duration">How long each measured phase runs (<c>--duration</c>, default 5 s).</param>
/// <param name="Quick">Whether a short smoke run was asked for (<c>--quick</c>): fewer iterations, same code paths.</param>
/// <param name="Output">Where the table goes.</param>
public sealed record BenchmarkContext(TimeSpan Duration, bool Quick, TextWriter Output)
{
    /// <summary>Slices per path when paths are interleaved (<see cref="InterleavedRunner"/>): fewer in a quick run.</summary>
    public int Rounds => Quick ? 2 : InterleavedRunner.Rounds;
}
