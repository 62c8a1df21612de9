using System.Diagnostics;

namespace Conduit.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, headless, as a real browser for page tests: loads a page, lets its scripts run
/// for a budget of virtual time, and returns the resulting DOM (or a screenshot). Background
/// networking is off, so it talks only to the loopback server under test.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>The browser binary (installed by scripts/test.sh).</summary>
    public const string Executable = "/usr/bin/chromium";

    /// <summary>Loads <paramref name="url"/>, runs its scripts for <paramref name="virtualTime"/> and returns the DOM as HTML.</summary>
    public static async Task<string> DumpDomAsync(Uri url, TimeSpan virtualTime)
        => (await RunAsync(url, virtualTime, ["--dump-dom"])).Output;

    /// <summary>Loads <paramref name="url"/> and writes a PNG screenshot to <paramref name="path"/>.</summary>
    public static async Task ScreenshotAsync(Uri url, TimeSpan virtualTime, string path)
        => await RunAsync(url, virtualTime, [$"--screenshot={path}", "--window-size=1280,900", "--hide-scrollbars"]);

    private static async Task<(string Output, string Errors)> RunAsync(Uri url, TimeSpan virtualTime, string[] extra)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing: run ./scripts/test.sh, which installs it, or apt-get install chromium.");
        }

        var profile = Directory.CreateTempSubdirectory("conduit-chromium-");
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", $"--user-data-dir={profile.FullName}",
                     $"--virtual-time-budget={(int)virtualTime.TotalMilliseconds}",
                 }.Concat(extra).Append(url.ToString()))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Chromium did not finish loading {url} within 60 s.");
        }
        finally
        {
            try { profile.Delete(recursive: true); } catch (IOException) { }
        }

        return (await output, await errors);
    }
}
