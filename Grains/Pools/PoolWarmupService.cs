using Conduit.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conduit.Grains.Pools;

/// <summary>
/// Activates every configured pool once the host has started, so that each opens its minimum
/// connections before the first client arrives (pool grains otherwise activate on first use).
/// </summary>
internal sealed partial class PoolWarmupService(PoolCatalog catalog, IGrainFactory grains, IHostApplicationLifetime lifetime, ILogger<PoolWarmupService> logger) : IHostedService
{
    private CancellationTokenRegistration _registration;
    private Task _warming = Task.CompletedTask;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // After every hosted service (the silo among them) has started, whatever the registration order.
        _registration = lifetime.ApplicationStarted.Register(() => _warming = Task.Run(WarmAsync));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _registration.DisposeAsync();
        await _warming.WaitAsync(cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task WarmAsync()
    {
        foreach (var name in catalog.Names)
        {
            try
            {
                var info = await grains.GetGrain<IPoolGrain>(name).GetInfo();
                LogWarmed(logger, name, info.Mode, info.Connections);
            }
            catch (Exception e)
            {
                LogWarmFailed(logger, name, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Pool {Pool} ({Mode} mode) activated at start-up with {Connections} connections opening")]
    private static partial void LogWarmed(ILogger logger, string pool, string mode, int connections);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool} could not be activated at start-up; it will be on first use")]
    private static partial void LogWarmFailed(ILogger logger, string pool, Exception exception);
}
