using Microsoft.Extensions.Hosting;

namespace Conduit.Gateway.Sockets;

/// <summary>
/// Closes sockets that reached their maximum lifetime (1008). One sweep a second over the open sessions instead of a
/// timer per socket, as Kestrel checks its connection timeouts on one heartbeat: a socket is closed within a second
/// after its lifetime, and an idle socket holds no timer.
/// </summary>
internal sealed class SessionLifetimeService(SessionRegistry sessions, TimeProvider time) : BackgroundService
{
    /// <summary>How often the open sessions are checked.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                CheckOnce();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One sweep: every session past its lifetime is asked to close.</summary>
    public void CheckOnce()
    {
        var now = time.GetTimestamp();
        foreach (var session in sessions.Sessions)
        {
            session.CheckLifetime(now);
        }
    }
}
