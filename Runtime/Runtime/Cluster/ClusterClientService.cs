using Conduit.Runtime.Calls;
using Conduit.Runtime.Directory;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Membership;
using Conduit.Runtime.Observers;
using Conduit.Runtime.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Cluster;

/// <summary>
/// Runs a cluster client: watches membership (Redis) or probes a configured silo list, keeps a
/// connection to every active silo (so grains anywhere can call this client's observers), and routes
/// calls through the <see cref="ClusterMessageRouter"/>.
/// </summary>
internal sealed partial class ClusterClientService(
    IOptions<ClusterClientOptions> options,
    RedisConnectionPool redisPool,
    ClusterMessageRouter router,
    RuntimeClient client,
    ObserverRegistry observers,
    TimeProvider time,
    RepeatedLogs repeated,
    ILoggerFactory loggerFactory) : IHostedService, IClusterStatus
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<ClusterClientService>();
    private readonly CancellationTokenSource _stopping = new();
    private MembershipAgent? _agent;
    private ClusterTransport? _transport;
    private MembershipView _staticView = MembershipView.Empty;
    private IReadOnlyList<string> _staticUnreachable = []; // configured silos that the last probe could not reach
    private Task _probeLoop = Task.CompletedTask;

    /// <inheritdoc />
    public ClusterStatusReport GetStatus()
    {
        var o = options.Value;
        if (Volatile.Read(ref _agent) is { } agent)
        {
            return new ClusterStatusReport("redis", o.ClusterId, "client", null, agent.Store, agent.Members());
        }

        if (!string.IsNullOrWhiteSpace(o.RedisConnectionString))
        {
            // Not started yet (a web host may serve before the client has read the table): nothing read so far.
            return new ClusterStatusReport("redis", o.ClusterId, "client", null, ClusterStoreStatus.NotReadYet, []);
        }

        // A fixed list: the silos the last probe reached are active, the others unreachable. No table, no heartbeats.
        var reached = Volatile.Read(ref _staticView).ActiveSilos
            .Select(s => new ClusterMemberStatus(s.ToString(), nameof(SiloStatus.Active), null, null, null, s.Endpoint, null));
        var unreachable = Volatile.Read(ref _staticUnreachable)
            .Select(endpoint => new ClusterMemberStatus(endpoint, "Unreachable", null, null, null, endpoint, null));
        return new ClusterStatusReport("static", o.ClusterId, "client", null, null, reached.Concat(unreachable).ToList());
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var errors = o.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(nameof(ClusterClientOptions), typeof(ClusterClientOptions), errors);
        }

        _transport = new ClusterTransport(new MessageCodec(ClusterSiloService.CreateSerializerOptions(client)), "client:" + observers.RuntimeId,
            o.MaxFrameSize, o.ConnectTimeout, o.ResponseTimeout + TimeSpan.FromSeconds(5), time, loggerFactory.CreateLogger<ClusterTransport>(), repeated, ClusterKeyProof.For(o.ClusterKey, o.AcceptedClusterKeys));
        IGrainDirectory? directory = null;
        Func<MembershipView> view;
        if (!string.IsNullOrWhiteSpace(o.RedisConnectionString))
        {
            var redis = await redisPool.GetAsync(o.RedisConnectionString, o.ClusterId, o.RedisOperationTimeout);
            directory = new RedisGrainDirectory(redis);
            var membershipOptions = new ClusterOptions { ClusterId = o.ClusterId, HeartbeatInterval = o.RefreshInterval, DeathTimeout = o.RefreshInterval * 5 };
            _agent = new MembershipAgent(new RedisMembershipTable(redis), membershipOptions, time, loggerFactory.CreateLogger<MembershipAgent>(), self: null, gatewayEndpoint: null);
            var agent = _agent;
            view = () => agent.View;
            _agent.ViewChanged += OnViewChanged;
            router.Attach(_transport, view, directory, self: null, catalog: null, o.UnreachableFor, refreshView: agent.RefreshSharedAsync);
            if (!await _agent.RefreshAsync(cancellationToken))
            {
                LogNoMembership(_logger);
            }

            _agent.Start();
        }
        else
        {
            view = () => Volatile.Read(ref _staticView);
            router.Attach(_transport, view, directory: null, self: null, catalog: null, o.UnreachableFor, refreshView: ProbeSilosAsync);
            await ProbeSilosAsync();
            _probeLoop = ProbeLoopAsync(o.RefreshInterval);
        }

        LogStarted(_logger, view().ActiveSilos.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        await _probeLoop;
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        if (_transport is not null)
        {
            await _transport.DisposeAsync();
        }
    }

    private void OnViewChanged(MembershipView view)
    {
        router.OnViewChanged(view);
        foreach (var silo in view.ActiveSilos)
        {
            _ = ConnectQuietlyAsync(silo);
        }
    }

    private async Task ConnectQuietlyAsync(SiloAddress silo)
    {
        try
        {
            await _transport!.GetSiloConnectionAsync(silo);
        }
        catch (Exception e)
        {
            LogConnectFailed(_logger, silo.ToString(), e.Message);
        }
    }

    private async Task ProbeLoopAsync(TimeSpan period)
    {
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await ProbeSilosAsync();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task ProbeSilosAsync()
    {
        var entries = new List<MembershipEntry>();
        var unreachable = new List<string>();
        foreach (var endpoint in options.Value.Silos)
        {
            var colon = endpoint.LastIndexOf(':');
            try
            {
                // Keep a silo whose connection is open; probe (connect, learn its generation) otherwise.
                var known = Volatile.Read(ref _staticView).ActiveSilos.FirstOrDefault(s => s.Endpoint == endpoint);
                var silo = known is not null && _transport!.IsConnected(known)
                    ? known
                    : await _transport!.ProbeAsync(endpoint[..colon], int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
                entries.Add(new MembershipEntry(silo, SiloStatus.Active, time.GetUtcNow(), time.GetUtcNow(), "?", endpoint));
            }
            catch (Exception e)
            {
                unreachable.Add(endpoint);
                LogConnectFailed(_logger, endpoint, e.Message);
            }
        }

        Volatile.Write(ref _staticView, new MembershipView(new MembershipSnapshot(entries, 0)));
        Volatile.Write(ref _staticUnreachable, unreachable);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster client started; {Count} active silos known")]
    private static partial void LogStarted(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster client could not read the membership table yet; it keeps trying")]
    private static partial void LogNoMembership(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not connect to silo {Silo}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string silo, string reason);
}
