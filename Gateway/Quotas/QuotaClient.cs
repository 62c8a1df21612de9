using System.Collections.Concurrent;
using Conduit.Runtime.Hosting;
using Conduit.Grains;
using Conduit.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Gateway.Quotas;

/// <summary>
/// The gateway's side of the quota grain: asks it to admit sockets, releases them, and keeps a local
/// <see cref="TenantBudget"/> per tenant so that passing a message does not call the grain.
/// </summary>
internal sealed partial class QuotaClient
{
    private readonly IGrainFactory _grains;
    private readonly TimeProvider _time;
    private readonly GatewayOptions _options;
    private readonly RepeatedLogs _repeated;
    private readonly ILogger<QuotaClient> _logger;
    private readonly ConcurrentDictionary<string, TenantBudget> _budgets = new(StringComparer.Ordinal);
    private readonly Func<string, TenantBudget> _newBudget;

    public QuotaClient(IGrainFactory grains, TimeProvider time, IOptions<GatewayOptions> options, RepeatedLogs repeated, ILogger<QuotaClient> logger)
    {
        _repeated = repeated;
        _grains = grains;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _newBudget = tenant => new TenantBudget(tenant, _options.BudgetRequestSize, RefillAsync, _time, budget => LogBudgetStarved(budget.Tenant, TenantBudget.MaxWaitRounds));
    }

    /// <summary>This gateway process; its permits expire together when it dies.</summary>
    public string GatewayId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    private IQuotaGrain Grain => _grains.GetGrain<IQuotaGrain>(QuotaGrainKeys.Global);

    public Task<SocketPermitResult> AcquireSocketAsync(string tenant, string socketId)
        => Grain.AcquireSocket(new SocketPermitRequest(tenant, GatewayId, socketId));

    public async Task ReleaseSocketAsync(string socketId)
    {
        try
        {
            await Grain.ReleaseSocket(socketId);
        }
        catch (Exception ex)
        {
            // The permit expires on its own when it is not renewed.
            if (_repeated.Admit("quota permit release failed"))
            {
                LogReleaseFailed(ex, socketId);
            }
        }
    }

    /// <summary>Renews the permits of the given sockets; returns the ones the quota grain revoked.</summary>
    public async Task<List<string>> RenewAsync(Dictionary<string, string> sockets)
    {
        var rejected = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (tenant, budget) in _budgets)
        {
            var n = budget.TakeUnreportedRejections();
            if (n > 0)
            {
                rejected[tenant] = n;
            }
        }

        var result = await Grain.RenewPermits(new PermitRenewalRequest(GatewayId, sockets, rejected));
        return result.Revoked;
    }

    /// <summary>Takes one message of the tenant's budget: 0 when it may pass, else the retry-after in milliseconds.</summary>
    public ValueTask<long> TryTakeMessageAsync(string tenant)
        => _budgets.GetOrAdd(tenant, _newBudget).TakeAsync();

    private async Task RefillAsync(TenantBudget budget, int wanted)
    {
        try
        {
            var grant = await Grain.RequestBudget(new MessageBudgetRequest(budget.Tenant, GatewayId, wanted, budget.TakeUnreportedRejections()));
            budget.Apply(grant);
        }
        catch (Exception ex)
        {
            LogBudgetFailed(ex, budget.Tenant);
            budget.Apply(new MessageBudgetGrant(0, 1000, 0));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A message of tenant {Tenant} waited for {Rounds} grants of the quota grain without getting a token; refusing it for 1 s")]
    private partial void LogBudgetStarved(string tenant, int rounds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release the quota permit of socket {SocketId}; it will expire")]
    private partial void LogReleaseFailed(Exception exception, string socketId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not get a message budget for tenant {Tenant} from the quota grain; refusing its messages for 1 s")]
    private partial void LogBudgetFailed(Exception exception, string tenant);
}
