using Conduit.Gateway.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Quotas;

/// <summary>Renews the quota permits of this gateway's open sockets; closes sockets whose permit was revoked (1008).</summary>
internal sealed partial class PermitRenewalService(
    QuotaClient quota,
    SessionRegistry sessions,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<PermitRenewalService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PermitRenewInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RenewOnceAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One renewal round (also called by tests).</summary>
    public async Task RenewOnceAsync()
    {
        var open = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var session in sessions.Sessions)
        {
            open[session.SocketId] = session.Info.Tenant;
        }

        try
        {
            foreach (var socketId in await quota.RenewAsync(open))
            {
                if (sessions.TryGet(socketId, out var session))
                {
                    LogRevoked(socketId, session!.Info.Tenant);
                    session.RequestClose(ClientSession.ClosePolicy, "quota permit revoked", flush: true);
                }
            }
        }
        catch (Exception ex)
        {
            // Permits live for several renewal intervals; the next round tries again.
            LogRenewFailed(ex, open.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The quota grain revoked the permit of socket {SocketId} (tenant {Tenant}); closing it with 1008")]
    private partial void LogRevoked(string socketId, string tenant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing {Count} socket permits failed; retrying at the next interval")]
    private partial void LogRenewFailed(Exception exception, int count);
}
