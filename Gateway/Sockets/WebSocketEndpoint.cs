using System.Net.WebSockets;
using Conduit.Gateway.Authentication;
using Conduit.Gateway.Availability;
using Conduit.Runtime.Hosting;
using Conduit.Gateway.Metrics;
using Conduit.Gateway.Pools;
using Conduit.Gateway.Quotas;
using Conduit.Grains;
using Conduit.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Sockets;

/// <summary>
/// <c>GET /ws/{pool}</c>: checks key, pool, agent id and the tenant's socket quota before the upgrade (401, 404,
/// 400, 429 with Retry-After, 503 while draining, 503 with Retry-After when a grain it needs cannot be reached now),
/// opens the agent, then accepts and serves the socket as a <see cref="ClientSession"/>.
/// </summary>
internal sealed partial class WebSocketEndpoint(
    ApiKeyStore keys,
    IPoolCatalog pools,
    QuotaClient quota,
    SessionRegistry sessions,
    IGrainFactory grains,
    GatewayMetrics metrics,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    RepeatedLogs repeated,
    ILoggerFactory loggerFactory,
    ILogger<WebSocketEndpoint> logger)
{
    private readonly GatewayOptions _options = options.Value;

    public async Task HandleAsync(HttpContext context, string pool)
    {
        if (await AdmitAsync(context, pool) is not { } info)
        {
            return;
        }

        var agent = grains.GetGrain<IAgentGrain>(info.AgentKey);
        var session = new ClientSession(info, agent, quota, metrics, _options, time, repeated, loggerFactory.CreateLogger(ClientSession.LogCategory));
        var observer = grains.CreateObjectReference<IAgentObserver>(session);
        session.Observer = observer;
        var traffic = metrics.ForPool(info.Pool);
        var accepted = false;
        try
        {
            // Opened before the upgrade, so that a cluster that cannot reach the agent right now refuses with 503
            // instead of accepting a socket it cannot serve; a genuine error is a 500.
            try
            {
                await agent.Open(session.OpenRequest, observer);
            }
            catch (Exception ex) when (ClusterFailures.IsUnavailable(ex))
            {
                if (repeated.Admit("agent unreachable at upgrade"))
                {
                    LogOpenUnavailable(ex, info.AgentKey, info.Pool);
                }

                await RefuseUnavailableAsync(context, "The agent cannot be reached right now; try again.");
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = info.SubProtocol,
                KeepAliveInterval = _options.KeepAliveInterval,
                KeepAliveTimeout = _options.KeepAliveTimeout,
                DangerousEnableCompression = false,
            });
            accepted = true;
            Interlocked.Increment(ref traffic.ActiveSockets);
            Interlocked.Increment(ref traffic.OpenedSockets);
            Interlocked.Increment(ref metrics.OpenedSockets);
            var run = session.Start(socket); // before it is registered, so that a drain always finds its completion
            if (sessions.TryAdd(session))
            {
                LogOpened(info.SocketId, info.Tenant, info.Pool, info.AgentKey);
            }
            else
            {
                session.RequestClose(ClientSession.CloseGoingAway, "gateway draining", flush: true);
            }

            await run;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            LogClosedEarly(info.SocketId, ex.Message);
        }
        finally
        {
            if (accepted)
            {
                sessions.Remove(session);
                Interlocked.Decrement(ref traffic.ActiveSockets);
            }

            grains.DeleteObjectReference<IAgentObserver>(session);

            // Also after an Open that failed as unavailable: it may have bound the agent before its answer was lost (a
            // timeout), and an agent bound to a socket stays active until it is closed. When the agent cannot be reached
            // at all, this call fails too, logged at most once per 10 s.
            await CloseAgentAsync(agent, info);
            await quota.ReleaseSocketAsync(info.SocketId);
        }
    }

    /// <summary>
    /// The checks before the upgrade. Returns the socket's identity and its permit, or null when the request was refused
    /// (the answer is written). A method of its own so that its locals are not kept for the socket's lifetime.
    /// </summary>
    private async Task<SessionInfo?> AdmitAsync(HttpContext context, string pool)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "bad_request", "Expected a WebSocket upgrade request.");
            return null;
        }

        if (sessions.IsDraining)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "draining", "The gateway is shutting down.");
            return null;
        }

        var tenant = keys.FindTenant(KeyHashes.Presented(context.Request, "api_key"));
        if (tenant is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "unauthorized", "Missing or unknown API key.");
            return null;
        }

        PoolLookup found;
        try
        {
            found = await pools.LookupAsync(pool, context.RequestAborted);
        }
        catch (Exception ex) when (ClusterFailures.IsUnavailable(ex))
        {
            if (repeated.Admit("pool unreachable at upgrade"))
            {
                LogPoolLookupUnavailable(ex, pool);
            }

            await RefuseUnavailableAsync(context, $"Pool '{pool}' cannot be reached right now; try again.");
            return null;
        }

        if (!found.Exists)
        {
            await RefuseAsync(context, StatusCodes.Status404NotFound, "unknown_pool", $"Unknown pool '{pool}'.");
            return null;
        }

        var agent = context.Request.Query["agent"].ToString();
        var anonymous = agent.Length == 0;
        if (anonymous)
        {
            agent = AgentIds.NewAgent();
        }
        else if (!AgentIds.IsValidSegment(agent))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "bad_request", "The agent id must be 1-64 characters of letters, digits, '.', '_' or '-'.");
            return null;
        }

        var socketId = Guid.NewGuid().ToString("N");
        SocketPermitResult permit;
        try
        {
            permit = await quota.AcquireSocketAsync(tenant, socketId);
        }
        catch (Exception ex) when (ClusterFailures.IsUnavailable(ex))
        {
            if (repeated.Admit("quota grain unreachable at upgrade"))
            {
                LogQuotaUnavailable(ex, tenant);
            }

            await RefuseUnavailableAsync(context, "The quota service cannot be reached right now; try again.");
            return null;
        }

        if (!permit.Granted)
        {
            RetryAfter.Set(context.Response, TimeSpan.FromMilliseconds(permit.RetryAfterMs));
            await RefuseAsync(context, StatusCodes.Status429TooManyRequests, "quota", $"Tenant '{tenant}' is at the socket limit of its tier '{permit.Tier}'.");
            return null;
        }

        // The pool's subprotocol, if the client asked for it. A client that asked only for others gets none: it may go on
        // without one (most do) or refuse the connection, which is its call.
        var subProtocol = found.SubProtocol is { } offered && context.WebSockets.WebSocketRequestedProtocols.Contains(offered, StringComparer.Ordinal) ? offered : null;
        return new SessionInfo(socketId, tenant, pool, AgentIds.Scope(tenant, agent), Lifetime(permit), subProtocol, anonymous);
    }

    private TimeSpan Lifetime(SocketPermitResult permit)
        => permit.MaxLifetimeMs > 0 && TimeSpan.FromMilliseconds(permit.MaxLifetimeMs) < _options.MaxSocketLifetime
            ? TimeSpan.FromMilliseconds(permit.MaxLifetimeMs)
            : _options.MaxSocketLifetime;

    private async Task CloseAgentAsync(IAgentGrain agent, SessionInfo info)
    {
        try
        {
            await agent.Close(info.SocketId);
        }
        catch (Exception ex)
        {
            if (repeated.Admit("agent close failed"))
            {
                LogAgentCloseFailed(ex, info.AgentKey);
            }
        }
    }

    private Task RefuseUnavailableAsync(HttpContext context, string message)
    {
        RetryAfter.Set(context.Response, _options.UnavailableRetryAfter);
        return RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "unavailable", message);
    }

    private async Task RefuseAsync(HttpContext context, int status, string reason, string message)
    {
        metrics.Rejected(reason);
        if (repeated.Admit("upgrade refused: " + reason, LogLevel.Information))
        {
            LogRefused(status, reason, context.Connection.RemoteIpAddress?.ToString());
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a WebSocket upgrade with {Status} ({Reason}) from {Remote}")]
    private partial void LogRefused(int status, string reason, string? remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The quota grain cannot be reached to admit a socket of tenant {Tenant}; refusing with 503")]
    private partial void LogQuotaUnavailable(Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {SocketId} of tenant {Tenant} opened on pool {Pool} as agent {Agent}")]
    private partial void LogOpened(string socketId, string tenant, string pool, string agent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pool {Pool} could not be looked up: the cluster cannot reach its grain now; refusing with 503")]
    private partial void LogPoolLookupUnavailable(Exception exception, string pool);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {Agent} could not be opened on pool {Pool}: the cluster cannot reach it now; refusing with 503")]
    private partial void LogOpenUnavailable(Exception exception, string agent, string pool);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Socket {SocketId} closed before it was served: {Reason}")]
    private partial void LogClosedEarly(string socketId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing agent {Agent} failed")]
    private partial void LogAgentCloseFailed(Exception exception, string agent);
}
