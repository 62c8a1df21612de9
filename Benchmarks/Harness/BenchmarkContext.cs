namespace Conduit.Benchmarks.Harness;

/// <summary>What a scenario gets from the command line.</summary>
/// <param name="Duration">How long each measured phase runs (<c>--duration</c>, default 5 s).</param>
/// <param name="Quick">Whether a short smoke run was asked for (<c>--quick</c>): fewer iterations, same code paths.</param>
/// <param name="Output">Where the table goes.</param>
/// <param name="Pinned">
/// <c>--pinned</c>: this process (load generator and upstream) runs on CPU 0 and the process it measures (the gateway
/// silo, the bare relay) on CPU 1, so that the proxy has a core of its own as it would on its own machine, instead of
/// sharing both cores with the load (the default layout).
/// </param>
public sealed record BenchmarkContext(TimeSpan Duration, bool Quick, TextWriter Output, bool Pinned = false)
{
    /// <summary>The CPUs of this process in the pinned layout.</summary>
    public const string LoadCpus = "0";

    /// <summary>The CPUs a measured child process gets (for <c>taskset -c</c>): CPU 1 when <see cref="Pinned"/>, else all (null).</summary>
    public string? ChildCpus => Pinned ? "1" : null;

    /// <summary>Slices per path when paths are interleaved (<see cref="InterleavedRunner"/>): fewer in a quick run.</summary>
    public int Rounds => Quick ? 2 : InterleavedRunner.Rounds;
}
