using System.Diagnostics;
using System.Text;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Silo;

/// <summary>The real Silo executable (Conduit.Silo.dll from the test output) run as a child process on a free loopback port.</summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    /// <summary>
    /// Starts the silo and waits until <paramref name="readyPath"/> answers 200 (at most <paramref name="timeout"/>, default
    /// 30 s); with <paramref name="cpus"/> (a list for <c>taskset -c</c>, Linux) it runs on those CPUs only.
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string environment, Dictionary<string, string>? variables = null, string readyPath = "/health/live", TimeSpan? timeout = null, string? cpus = null)
    {
        var port = ServerAddress.FreeLoopbackPort();
        var info = StartInfo(port, environment, variables, cpus);
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled";
        var process = Process.Start(info)!;

        // Never leave the child behind, even when this process is stopped before it disposes the child.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        };
        var silo = new SiloProcess(process, port);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}{readyPath}")).IsSuccessStatusCode)
                {
                    return silo;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = silo.Output;
                await silo.DisposeAsync();
                throw new InvalidOperationException("The silo did not start:\n" + output);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Runs a silo that is expected to exit by itself (within <paramref name="timeout"/>, default 30 s): its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string environment, Dictionary<string, string> variables, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(ServerAddress.FreeLoopbackPort(), environment, variables))!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The silo did not exit:\n" + output);
        }

        process.WaitForExit(); // the output is complete once this returns
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>The Silo executable from the test output, on <paramref name="port"/>, with its output redirected.</summary>
    private static ProcessStartInfo StartInfo(int port, string environment, Dictionary<string, string>? variables, string? cpus = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Conduit.Silo.dll"), "--urls", $"http://127.0.0.1:{port}", "--environment", environment })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in variables ?? [])
        {
            info.Environment[name] = value;
        }

        return OnCpus(info, cpus);
    }

    /// <summary>
    /// <paramref name="start"/> run under <c>taskset -c <paramref name="cpus"/></c> (Linux), so that it runs on those CPUs
    /// only; unchanged when <paramref name="cpus"/> is null. taskset replaces itself with the program (exec), so the
    /// process id is the program's.
    /// </summary>
    public static ProcessStartInfo OnCpus(ProcessStartInfo start, string? cpus)
    {
        if (cpus is not null)
        {
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, cpus);
            start.ArgumentList.Insert(0, "-c");
            start.FileName = "taskset";
        }

        return start;
    }

    public Uri SocketUri(string query) => new($"ws://127.0.0.1:{Port}/ws/demo?{query}");

    /// <summary>Resident set size of the child process, in bytes (Linux).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
