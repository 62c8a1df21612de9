namespace Conduit.Grains;

/// <summary>The answer to <see cref="PermitRenewalRequest"/>.</summary>
/// <param name="Revoked">
/// Sockets whose permit could not be renewed (for example after the quota grain lost its state and the tenant's
/// limit is now taken by others); the gateway closes them.
/// </param>
public sealed record PermitRenewalResult(List<string> Revoked);
