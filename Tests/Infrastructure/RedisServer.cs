using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// A real /usr/bin/redis-server on a free loopback port, owned by a test. Without persistence it runs
/// with <c>--save "" --appendonly no</c>; with persistence it keeps an append-only file (fsync always)
/// in a temp directory so that a stop and start keeps the data. A watchdog shell kills the server if
/// the test process dies without disposing it, so no redis-server outlives the test run.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const string Executable = "/usr/bin/redis-server";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly object _lock = new();
    private readonly string _directory;
    private Process? _server;
    private Process? _watchdog;
    private bool _disposed;

    private RedisServer(int port, bool persistent)
    {
        Port = port;
        Persistent = persistent;
        _directory = Path.Combine(Path.GetTempPath(), "conduit-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    /// <summary>The loopback port the server listens on (the same across restarts).</summary>
    public int Port { get; }

    /// <summary>Whether the server keeps its data across <see cref="StopAsync"/> and <see cref="StartAsync"/>.</summary>
    public bool Persistent { get; }

    /// <summary>A StackExchange.Redis connection string for this server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000";

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning
    {
        get { lock (_lock) { return _server is { HasExited: false }; } }
    }

    /// <summary>Starts a server on a free port and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartNewAsync(bool persistent = false)
    {
        var server = new RedisServer(ServerAddress.FreeLoopbackPort(), persistent);
        try
        {
            await server.StartAsync(keepData: true);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the (stopped) server again on the same port; <paramref name="keepData"/> false wipes its files first.</summary>
    public async Task StartAsync(bool keepData = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
        {
            throw new InvalidOperationException("redis-server is already running.");
        }

        if (!keepData)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(_directory))
            {
                if (Directory.Exists(entry)) { Directory.Delete(entry, recursive: true); } else { File.Delete(entry); }
            }
        }

        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", _directory, "--save", "", "--daemonize", "no", "--protected-mode", "yes" })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var arg in Persistent ? new[] { "--appendonly", "yes", "--appendfsync", "always" } : new[] { "--appendonly", "no" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var watchdog = StartWatchdog(process.Id);
        lock (_lock)
        {
            _server = process;
            _watchdog = watchdog;
        }

        await WaitUntilAnswersAsync(process);
    }

    /// <summary>Kills the server (as a crash would); the port stays reserved for <see cref="StartAsync"/>.</summary>
    public async Task StopAsync()
    {
        Process? server;
        Process? watchdog;
        lock (_lock)
        {
            server = _server;
            watchdog = _watchdog;
            _server = null;
            _watchdog = null;
        }

        await KillAsync(server);
        await KillAsync(watchdog);
    }

    /// <summary>Sends a command (inline protocol) and returns the first reply line, for tests that inspect the server.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port).WaitAsync(TimeSpan.FromSeconds(5));
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        return Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying process; the temp directory is cleaned by the OS.
        }
    }

    private static Process StartWatchdog(int serverPid)
    {
        // Kills redis-server when this test process is gone (crash, kill -9 of the test host).
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 {serverPid} 2>/dev/null; do sleep 1; done; kill -9 {serverPid} 2>/dev/null");
        return Process.Start(info) ?? throw new InvalidOperationException("watchdog did not start.");
    }

    private static async Task KillAsync(Process? process)
    {
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private async Task WaitUntilAnswersAsync(Process process)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < StartTimeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on port {Port}.");
            }

            try
            {
                var reply = await CommandAsync("PING");
                if (reply == "+PONG")
                {
                    return;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException)
            {
                // Not listening yet.
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"redis-server on port {Port} did not answer within {StartTimeout}.");
    }
}
