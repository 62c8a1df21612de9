using System.Threading.Channels;
using Conduit.Runtime.Membership;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Directory;

/// <summary>
/// Deletes the directory entries of silos that died without unregistering them (a crash, a stop that ran out of
/// time). Look-ups already ignore such entries, but nothing else would ever delete those of grains that are not called
/// again (an agent without an id), so a cluster whose silos crash now and then would grow its directory for good.
/// Each silo sweeps a dead silo when it first sees it dead, including silos that died before it started, and once more
/// <c>sweepAgainAfter</c> later: a silo declared dead while it was only stalled may register a few grains before it
/// learns that it is dead. A sweep that fails (Redis unavailable) is tried again at the next view. Sweeps are
/// idempotent, so every silo sweeping is only repeated work, and cheap: the second finds the dead silo's list empty.
/// </summary>
internal sealed partial class DeadSiloCleanup : IAsyncDisposable
{
    private readonly IGrainDirectory _directory;
    private readonly SiloAddress _self;
    private readonly TimeSpan _sweepAgainAfter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<MembershipView> _views = Channel.CreateBounded<MembershipView>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Dictionary<SiloAddress, (int Sweeps, long LastAt)> _swept = []; // the loop's own
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public DeadSiloCleanup(IGrainDirectory directory, SiloAddress self, TimeSpan sweepAgainAfter, TimeProvider time, ILogger logger)
    {
        _directory = directory;
        _self = self;
        _sweepAgainAfter = sweepAgainAfter;
        _time = time;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Hands the latest view to the sweeping loop (called on the membership agent's loop; never waits).</summary>
    public void OnViewChanged(MembershipView view) => _views.Writer.TryWrite(view);

    /// <summary>Stops the loop (a sweep under way is cancelled) and awaits it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _views.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var view in _views.Reader.ReadAllAsync(_stopping.Token))
            {
                foreach (var entry in view.Snapshot.Entries)
                {
                    if (entry.Status == SiloStatus.Dead && entry.Silo != _self && IsDue(entry.Silo))
                    {
                        await SweepAsync(entry.Silo);
                    }
                }

                // Dead rows are deleted after a while (ClusterOptions.DefunctRowAge): forget them with their rows.
                foreach (var silo in _swept.Keys.Where(s => view.Snapshot.Find(s) is null).ToList())
                {
                    _swept.Remove(silo);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private bool IsDue(SiloAddress silo) => !_swept.TryGetValue(silo, out var swept)
        || (swept.Sweeps == 1 && _time.GetElapsedTime(swept.LastAt) >= _sweepAgainAfter);

    private async Task SweepAsync(SiloAddress silo)
    {
        try
        {
            var removed = await _directory.UnregisterSiloAsync(silo, _stopping.Token);
            _swept[silo] = (_swept.TryGetValue(silo, out var swept) ? swept.Sweeps + 1 : 1, _time.GetTimestamp());
            if (removed > 0)
            {
                LogRemoved(_logger, removed, silo.ToString());
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            LogSweepFailed(_logger, silo.ToString(), e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} directory entries of dead silo {Silo}")]
    private static partial void LogRemoved(ILogger logger, int count, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the directory entries of dead silo {Silo}, will try again: {Reason}")]
    private static partial void LogSweepFailed(ILogger logger, string silo, string reason);
}
