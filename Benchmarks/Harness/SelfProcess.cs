using System.Diagnostics;

namespace Conduit.Benchmarks.Harness;

/// <summary>Starting this benchmark executable again as a child process (to set its environment, or to run a helper).</summary>
public static class SelfProcess
{
    /// <summary>
    /// A start info for this executable with <paramref name="arguments"/>, whether it runs as an apphost or under
    /// <c>dotnet</c>; with <paramref name="cpus"/> (a list for <c>taskset -c</c>, Linux) it runs on those CPUs only
    /// (<see cref="Conduit.Tests.Silo.SiloProcess.OnCpus"/>).
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments, string? cpus = null)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark cannot find its own executable.");
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]); // run as `dotnet Conduit.Benchmarks.dll`
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Conduit.Tests.Silo.SiloProcess.OnCpus(start, cpus);
    }
}
