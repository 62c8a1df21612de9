using Conduit.Runtime.Activations;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Hosting;

/// <summary>
/// Starts and stops the silo with the host: owns the idle-collection loop, and on stop deactivates every
/// activation within <see cref="SiloOptions.ShutdownTimeout"/>.
/// </summary>
internal sealed partial class SiloLifecycleService(SiloRuntime runtime, IOptions<SiloOptions> options, ILogger<SiloLifecycleService> logger) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _collector;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _collector = CollectIdleAsync(_stopping.Token);
        LogStarted(logger, runtime.Registry.GrainTypes.Count);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_collector is not null)
        {
            await _collector;
        }

        using var timeout = new CancellationTokenSource(options.Value.ShutdownTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await runtime.Catalog.DeactivateAllAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            LogShutdownIncomplete(logger, runtime.Catalog.Count, runtime.Catalog.Describe());
        }

        LogStopped(logger);
    }

    private async Task CollectIdleAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.CollectionQuantum, runtime.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    var collected = runtime.Catalog.CollectIdle();
                    if (collected > 0)
                    {
                        LogCollected(logger, collected);
                    }
                }
                catch (Exception exception)
                {
                    LogCollectionFailed(logger, exception);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo started with {GrainTypeCount} grain types")]
    private static partial void LogStarted(ILogger logger, int grainTypeCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown timed out with {Count} activations not yet deactivated: {Activations}")]
    private static partial void LogShutdownIncomplete(ILogger logger, int count, string activations);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Collected {Count} idle activations")]
    private static partial void LogCollected(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Idle collection failed")]
    private static partial void LogCollectionFailed(ILogger logger, Exception exception);
}
