using Conduit.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Grains.Quotas;

/// <summary>
/// The cluster's quota authority (see <see cref="IQuotaGrain"/>). State is kept in memory on purpose: after a
/// re-activation, permits come back with the gateways' next renewals and message buckets start full.
/// </summary>
internal sealed partial class QuotaGrain : Grain, IQuotaGrain
{
    private readonly QuotaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<QuotaGrain> _logger;
    private readonly Dictionary<string, SocketPermit> _permits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TenantQuotaState> _tenants = new(StringComparer.Ordinal);

    public QuotaGrain(IOptions<QuotaOptions> options, TimeProvider time, ILogger<QuotaGrain> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public Task<SocketPermitResult> AcquireSocket(SocketPermitRequest request)
    {
        var now = _time.GetTimestamp();
        var tenant = GetTenant(request.Tenant, now);
        PurgeExpired(tenant, now);
        var lifetimeMs = (long)tenant.Limits.MaxSocketLifetime.TotalMilliseconds;
        var ttlMs = (long)_options.PermitTtl.TotalMilliseconds;
        if (_permits.TryGetValue(request.SocketId, out var existing))
        {
            existing.ExpiresAt = now + ToTicks(_options.PermitTtl);
            return Task.FromResult(new SocketPermitResult(true, tenant.Tier, 0, lifetimeMs, ttlMs));
        }

        if (tenant.Sockets.Count >= tenant.Limits.MaxSockets)
        {
            tenant.RejectedSockets++;
            LogSocketRefused(request.Tenant, tenant.Tier, tenant.Limits.MaxSockets);
            return Task.FromResult(new SocketPermitResult(false, tenant.Tier, (long)_options.SocketRetryAfter.TotalMilliseconds, 0, 0));
        }

        _permits[request.SocketId] = new SocketPermit(request.Tenant, request.GatewayId, now + ToTicks(_options.PermitTtl));
        tenant.Sockets.Add(request.SocketId);
        return Task.FromResult(new SocketPermitResult(true, tenant.Tier, 0, lifetimeMs, ttlMs));
    }

    public Task<PermitRenewalResult> RenewPermits(PermitRenewalRequest request)
    {
        var now = _time.GetTimestamp();
        var expiresAt = now + ToTicks(_options.PermitTtl);
        var revoked = new List<string>();
        foreach (var (socketId, tenantName) in request.Sockets)
        {
            var tenant = GetTenant(tenantName, now);
            if (_permits.TryGetValue(socketId, out var permit))
            {
                permit.ExpiresAt = expiresAt;
                continue;
            }

            // Unknown: this grain re-activated and lost its state, or the permit expired while the gateway
            // could not reach us. Re-admit when the tier still allows it.
            PurgeExpired(tenant, now);
            if (tenant.Sockets.Count < tenant.Limits.MaxSockets)
            {
                _permits[socketId] = new SocketPermit(tenantName, request.GatewayId, expiresAt);
                tenant.Sockets.Add(socketId);
            }
            else
            {
                revoked.Add(socketId);
            }
        }

        foreach (var (tenantName, rejected) in request.RejectedMessages)
        {
            GetTenant(tenantName, now).RejectedMessages += rejected;
        }

        return Task.FromResult(new PermitRenewalResult(revoked));
    }

    public Task ReleaseSocket(string socketId)
    {
        if (_permits.Remove(socketId, out var permit) && _tenants.TryGetValue(permit.Tenant, out var tenant))
        {
            tenant.Sockets.Remove(socketId);
        }

        return Task.CompletedTask;
    }

    public Task<MessageBudgetGrant> RequestBudget(MessageBudgetRequest request)
    {
        var now = _time.GetTimestamp();
        var tenant = GetTenant(request.Tenant, now);
        tenant.RejectedMessages += request.Rejected;
        var rate = tenant.Limits.MessagesPerMinute;
        var validMs = (long)_options.GrantValidity.TotalMilliseconds;
        if (rate == 0)
        {
            return Task.FromResult(new MessageBudgetGrant(0, 60_000, validMs));
        }

        Refill(tenant, now);
        var slice = Math.Max(1, rate / _options.BudgetSlicesPerMinute);
        var granted = (int)Math.Min(Math.Min(Math.Max(1, request.Wanted), slice), Math.Floor(tenant.Tokens));
        if (granted <= 0)
        {
            var msPerToken = 60_000.0 / rate;
            var retryAfterMs = (long)Math.Ceiling((1 - tenant.Tokens) * msPerToken);
            return Task.FromResult(new MessageBudgetGrant(0, Math.Max(1, retryAfterMs), validMs));
        }

        tenant.Tokens -= granted;
        tenant.MessagesGranted += granted;
        return Task.FromResult(new MessageBudgetGrant(granted, 0, validMs));
    }

    public Task<IReadOnlyList<TenantUsage>> GetUsage()
    {
        var now = _time.GetTimestamp();
        foreach (var name in _options.Tenants.Keys)
        {
            GetTenant(name, now);
        }

        var usage = new List<TenantUsage>(_tenants.Count);
        foreach (var tenant in _tenants.Values.OrderBy(t => t.Tenant, StringComparer.Ordinal))
        {
            PurgeExpired(tenant, now);
            usage.Add(new TenantUsage(
                tenant.Tenant,
                tenant.Tier,
                tenant.Sockets.Count,
                tenant.Limits.MaxSockets,
                tenant.Limits.MessagesPerMinute,
                tenant.MessagesGranted,
                tenant.RejectedSockets,
                tenant.RejectedMessages));
        }

        return Task.FromResult<IReadOnlyList<TenantUsage>>(usage);
    }

    private TenantQuotaState GetTenant(string name, long now)
    {
        if (!_tenants.TryGetValue(name, out var state))
        {
            var tier = _options.Tenants.TryGetValue(name, out var settings) && settings.Tier is { } configured ? configured : _options.DefaultTier;
            state = new TenantQuotaState(name, tier, _options.Tiers[tier], now);
            _tenants[name] = state;
        }

        return state;
    }

    private void PurgeExpired(TenantQuotaState tenant, long now)
    {
        List<string>? expired = null;
        foreach (var socketId in tenant.Sockets)
        {
            if (_permits.TryGetValue(socketId, out var permit) && permit.ExpiresAt <= now)
            {
                (expired ??= []).Add(socketId);
            }
        }

        if (expired is null)
        {
            return;
        }

        foreach (var socketId in expired)
        {
            var gateway = _permits[socketId].GatewayId;
            _permits.Remove(socketId);
            tenant.Sockets.Remove(socketId);
            LogPermitExpired(socketId, tenant.Tenant, gateway);
        }
    }

    private void Refill(TenantQuotaState tenant, long now)
    {
        var elapsed = _time.GetElapsedTime(tenant.RefilledAt, now);
        var rate = tenant.Limits.MessagesPerMinute;
        tenant.Tokens = Math.Min(rate, tenant.Tokens + (elapsed.TotalMinutes * rate));
        tenant.RefilledAt = now;
    }

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a socket of tenant {Tenant}: tier {Tier} allows {MaxSockets} sockets")]
    private partial void LogSocketRefused(string tenant, string tier, int maxSockets);

    [LoggerMessage(Level = LogLevel.Information, Message = "Socket permit {SocketId} of tenant {Tenant} expired: gateway {GatewayId} stopped renewing it")]
    private partial void LogPermitExpired(string socketId, string tenant, string gatewayId);
}
