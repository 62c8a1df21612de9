using System.Net;
using System.Text.Json;
using Conduit.Runtime.Activations;
using Conduit.Runtime.Calls;
using Conduit.Runtime.Directory;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Membership;
using Conduit.Runtime.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Cluster;

/// <summary>
/// Joins the silo to the cluster when the host starts (listener, membership row, heartbeats) and
/// leaves it gracefully when the host stops: marks itself ShuttingDown, deactivates its grains and
/// unregisters them, marks itself Dead, closes its connections. Registered after the silo's own
/// lifecycle service, so it stops first, while the runtime is still whole.
/// </summary>
internal sealed partial class ClusterSiloService(
    IOptions<ClusterOptions> options,
    IOptions<SiloOptions> siloOptions,
    IClusterStore store,
    ClusterMessageRouter router,
    SiloRuntime runtime,
    RuntimeClient client,
    TimeProvider time,
    RepeatedLogs repeated,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory) : IHostedService, IClusterStatus
{
    private static readonly TimeSpan JoinRetryDelay = TimeSpan.FromMilliseconds(100);
    private static long _lastGeneration;
    private readonly ILogger _logger = loggerFactory.CreateLogger<ClusterSiloService>();
    private MembershipAgent? _agent;
    private ClusterTransport? _transport;
    private DeadSiloCleanup? _cleanup;
    private volatile bool _killed;

    /// <summary>This silo's address once started.</summary>
    public SiloAddress? Address { get; private set; }

    /// <summary>Where the silo listens for silos and clients, once started.</summary>
    public IPEndPoint? ListenEndPoint { get; private set; }

    /// <summary>The membership agent once started.</summary>
    public MembershipAgent? Membership => _agent;

    /// <summary>The transport once started.</summary>
    public ClusterTransport? Transport => _transport;

    /// <inheritdoc />
    public ClusterStatusReport GetStatus()
    {
        // Before the start (or when it failed) there is no view yet: this silo alone, joining.
        var agent = _agent;
        var self = Address?.ToString();
        return new ClusterStatusReport(
            store.Kind,
            options.Value.ClusterId,
            "silo",
            self,
            agent?.Store ?? ClusterStoreStatus.NotReadYet,
            agent?.Members() ?? [new ClusterMemberStatus(self ?? "(starting)", nameof(SiloStatus.Joining), Environment.MachineName, null, null, null, null)]);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var errors = o.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(nameof(ClusterOptions), typeof(ClusterOptions), errors);
        }

        var (table, directory) = await store.OpenAsync(o, cancellationToken);
        var codec = new MessageCodec(CreateSerializerOptions(client));
        _transport = new ClusterTransport(codec, "silo:?", o.MaxFrameSize, o.ConnectTimeout, siloOptions.Value.ResponseTimeout + TimeSpan.FromSeconds(5), time, loggerFactory.CreateLogger<ClusterTransport>(), repeated, ClusterKeyProof.For(o.ClusterKey, o.AcceptedClusterKeys));
        var endPoint = _transport.Listen(new IPEndPoint(IPAddress.Parse(o.EffectiveListenAddress), o.SiloPort));
        ListenEndPoint = endPoint;
        Address = new SiloAddress(o.AdvertisedHost, endPoint.Port, NextGeneration());
        _transport.LocalSilo = Address;
        _transport.LocalName = "silo:" + Address;

        _agent = new MembershipAgent(
            table, o, time, loggerFactory.CreateLogger<MembershipAgent>(), Address, $"{o.AdvertisedHost}:{endPoint.Port}",
            // Bounded well inside a heartbeat, so that a probe of a host that does not answer cannot delay this silo's own
            // heartbeat; a refusal comes back at once, and a probe that times out proves nothing anyway.
            (silo, cancellationToken) => SiloProbe.RefusesConnectionsAsync(silo, Min(o.ConnectTimeout, o.HeartbeatInterval / 2), cancellationToken));
        var agent = _agent;
        router.Attach(_transport, () => agent.View, directory, Address, runtime.Catalog, o.DeathTimeout, o.PreferLocalPlacement, agent.RefreshSharedAsync);
        _agent.ViewChanged += router.OnViewChanged;
        _agent.RowRestored += OnRowRestored;
        _agent.DeclaredDead += OnDeclaredDead;
        await JoinAsync(SiloStatus.Joining, cancellationToken);
        await JoinAsync(SiloStatus.Active, cancellationToken);
        _cleanup = new DeadSiloCleanup(directory, Address, o.DeathTimeout, time, loggerFactory.CreateLogger<DeadSiloCleanup>());
        _agent.ViewChanged += _cleanup.OnViewChanged;
        _agent.Start();
        LogJoined(_logger, Address.ToString(), o.ClusterId);
    }

    /// <summary>
    /// Writes this silo's row with <paramref name="status"/> at start-up. A Redis that is connected but does not answer
    /// for a moment (a blip, a server under load) is waited out, for as long as the first connection may take
    /// (<see cref="RedisConnection.StartupWait"/>), instead of failing the silo's start at the first refusal.
    /// </summary>
    private async Task JoinAsync(SiloStatus status, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                await _agent!.SetStatusAsync(status, cancellationToken);
                return;
            }
            catch (RedisUnavailableException e) when (time.GetElapsedTime(started) < RedisConnection.StartupWait)
            {
                LogJoinRetry(_logger, status.ToString(), e.Message);
                await Task.Delay(JoinRetryDelay, time, cancellationToken);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_killed || _agent is null || _transport is null)
        {
            await DisposePartsAsync();
            return;
        }

        // Each phase is timed: a stop that takes more than half the shutdown timeout says where its time went.
        var started = time.GetTimestamp();
        var phases = new List<(string Phase, TimeSpan Took)>(5);
        async Task TimedAsync(string phase, Func<Task> step)
        {
            var at = time.GetTimestamp();
            await step();
            phases.Add((phase, time.GetElapsedTime(at)));
        }

        router.BeginShutdown();
        await TimedAsync("marking ShuttingDown", () => TrySetStatusAsync(SiloStatus.ShuttingDown, cancellationToken));
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(siloOptions.Value.ShutdownTimeout);
            try
            {
                await TimedAsync("deactivating", () => runtime.Catalog.DeactivateAllAsync(timeout.Token));
                await TimedAsync("unregistering", () => router.WhenUnregisteredAsync().WaitAsync(timeout.Token));
            }
            catch (OperationCanceledException)
            {
                LogShutdownIncomplete(_logger, runtime.Catalog.Count, runtime.Catalog.Describe(), router.PendingUnregistrations);
            }
        }

        await TimedAsync("marking Dead", () => TrySetStatusAsync(SiloStatus.Dead, cancellationToken));
        await TimedAsync("closing membership and connections", DisposePartsAsync);
        var took = time.GetElapsedTime(started);
        if (took > siloOptions.Value.ShutdownTimeout / 2)
        {
            LogSlowStop(_logger, Address?.ToString() ?? "?", took, string.Join(", ", phases.Select(p => $"{p.Phase} {p.Took.TotalMilliseconds:F0} ms")));
        }

        LogLeft(_logger, Address?.ToString() ?? "?");
    }

    /// <summary>Stops heartbeats and drops every connection at once, as a crash would (for tests).</summary>
    public async Task KillAsync()
    {
        _killed = true;
        router.Kill();
        await DisposePartsAsync();
    }

    internal static JsonSerializerOptions CreateSerializerOptions(RuntimeClient client)
        => new(RuntimeJson.Options) { Converters = { new GrainReferenceJsonConverter(client) } };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static long NextGeneration()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        while (true)
        {
            var last = Interlocked.Read(ref _lastGeneration);
            var next = Math.Max(now, last + 1);
            if (Interlocked.CompareExchange(ref _lastGeneration, next, last) == last)
            {
                return next;
            }
        }
    }

    private async Task TrySetStatusAsync(SiloStatus status, CancellationToken cancellationToken)
    {
        try
        {
            await _agent!.SetStatusAsync(status, cancellationToken);
        }
        catch (Exception e)
        {
            LogStatusNotWritten(_logger, status, e.Message);
        }
    }

    private async Task DisposePartsAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        if (_cleanup is not null)
        {
            await _cleanup.DisposeAsync();
        }

        if (_transport is not null)
        {
            await _transport.DisposeAsync();
        }
    }

    private void OnRowRestored() => _ = ReRegisterAsync();

    private async Task ReRegisterAsync()
    {
        try
        {
            await router.ReRegisterAllAsync(CancellationToken.None);
            LogReRegistered(_logger, runtime.Catalog.Count);
        }
        catch (Exception e)
        {
            LogReRegisterFailed(_logger, e);
        }
    }

    private void OnDeclaredDead()
    {
        router.Kill();
        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Joining the cluster ({Status}) found Redis unavailable, retrying: {Reason}")]
    private static partial void LogJoinRetry(ILogger logger, string status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} joined cluster {ClusterId}")]
    private static partial void LogJoined(ILogger logger, string silo, string clusterId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} left the cluster")]
    private static partial void LogLeft(ILogger logger, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark this silo {Status}: {Reason}")]
    private static partial void LogStatusNotWritten(ILogger logger, SiloStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} took {Took} to leave the cluster: {Phases}")]
    private static partial void LogSlowStop(ILogger logger, string silo, TimeSpan took, string phases);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown timed out with {Count} activations left ({Activations}) and {Unregistrations} directory unregistrations unfinished")]
    private static partial void LogShutdownIncomplete(ILogger logger, int count, string activations, int unregistrations);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-registered {Count} activations after the membership table was lost")]
    private static partial void LogReRegistered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Re-registering activations failed")]
    private static partial void LogReRegisterFailed(ILogger logger, Exception exception);
}
