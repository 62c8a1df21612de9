using Conduit.Gateway.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Hosting;

/// <summary>
/// Drains the client sockets when the host stops, before the server and the grain runtime stop: new sockets get
/// 503, in-flight answers are delivered, then every socket is closed with 1001.
/// </summary>
internal sealed partial class GatewayDrainService(
    SessionRegistry sessions,
    IOptions<GatewayOptions> options,
    ILogger<GatewayDrainService> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var count = sessions.Count;
        LogDraining(count);
        await sessions.DrainAsync(options.Value.DrainTimeout + options.Value.CloseTimeout + options.Value.CloseTimeout);
        LogDrained(count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining {Count} client sockets")]
    private partial void LogDraining(int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained {Count} client sockets")]
    private partial void LogDrained(int count);
}
