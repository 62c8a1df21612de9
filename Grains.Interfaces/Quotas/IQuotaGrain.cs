using Conduit.Runtime;

namespace Conduit.Grains;

/// <summary>
/// The cluster's quota authority, key "global" (<see cref="QuotaGrainKeys.Global"/>). It maps tenants to tiers,
/// admits client sockets with permits that gateways renew (a dead gateway's permits expire), and grants
/// message budgets to gateways in slices so that a single message never costs a call to this grain.
/// </summary>
public interface IQuotaGrain : IGrainWithStringKey
{
    /// <summary>Admits one client socket of a tenant, or refuses it when the tenant is at its tier's socket limit.</summary>
    Task<SocketPermitResult> AcquireSocket(SocketPermitRequest request);

    /// <summary>Extends the permits a gateway holds and records the rejections it counted since the last renewal.</summary>
    Task<PermitRenewalResult> RenewPermits(PermitRenewalRequest request);

    /// <summary>Returns a socket's permit (the socket closed).</summary>
    Task ReleaseSocket(string socketId);

    /// <summary>Grants a gateway a slice of a tenant's message budget (possibly zero, then with a retry hint).</summary>
    Task<MessageBudgetGrant> RequestBudget(MessageBudgetRequest request);

    /// <summary>Usage of every tenant that is configured or has been seen.</summary>
    Task<IReadOnlyList<TenantUsage>> GetUsage();
}
