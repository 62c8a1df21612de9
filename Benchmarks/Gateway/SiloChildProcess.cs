using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Conduit.Gateway.Authentication;

namespace Conduit.Benchmarks.Gateway;

/// <summary>
/// The real Silo executable (co-hosting the gateway) as a child process, so that its memory can be measured apart
/// from the benchmark's clients. Pool "bench" points at the given upstream; tenant "bench" has no practical limits.
/// </summary>
internal sealed class SiloChildProcess : IAsyncDisposable
{
    public const string ApiKey = "bench-key";

    private readonly Process _process;

    private SiloChildProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public Uri SocketUri => new($"ws://127.0.0.1:{Port}/ws/bench");

    public static async Task<SiloChildProcess> StartAsync(Uri upstream)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Conduit.Silo.dll"), "--urls", $"http://127.0.0.1:{port}", "--environment", "Production" })
        {
            info.ArgumentList.Add(arg);
        }

        var settings = new Dictionary<string, string>
        {
            ["Demo__Enabled"] = "false",
            ["Pools__bench__Url"] = upstream.ToString(),
            ["Pools__bench__MinConnections"] = "4",
            ["Pools__bench__MaxConnections"] = "10",
            ["Tenants__bench__Tier"] = "bench",
            ["Tenants__bench__ApiKeyHashes__0"] = ApiKeyHash.ComputeHex(ApiKey),
            ["Quotas__Tiers__bench__MaxSockets"] = "100000",
            ["Quotas__Tiers__bench__MessagesPerMinute"] = "1000000000",
            ["Gateway__BudgetRequestSize"] = "100000",
            ["Quotas__BudgetSlicesPerMinute"] = "1000",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (name, value) in settings)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var silo = new SiloChildProcess(process, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/health/websocket")).IsSuccessStatusCode)
                {
                    return silo;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        await silo.DisposeAsync();
        throw new InvalidOperationException("The silo child process did not become healthy.");
    }

    /// <summary>Resident set size of the child process, in bytes.</summary>
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
