using Microsoft.Extensions.Options;

namespace Conduit.Gateway;

/// <summary>Reports every bad value of <see cref="GatewayOptions"/> by name.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        var errors = new List<string>();
        Positive(errors, nameof(o.KeepAliveInterval), o.KeepAliveInterval);
        Positive(errors, nameof(o.KeepAliveTimeout), o.KeepAliveTimeout);
        Positive(errors, nameof(o.MaxSocketLifetime), o.MaxSocketLifetime);
        Positive(errors, nameof(o.DrainTimeout), o.DrainTimeout);
        Positive(errors, nameof(o.CloseTimeout), o.CloseTimeout);
        Positive(errors, nameof(o.PermitRenewInterval), o.PermitRenewInterval);
        Positive(errors, nameof(o.PoolLookupCacheTime), o.PoolLookupCacheTime);
        if (o.MaxMessageBytes is < 1024 or > 64 * 1024 * 1024)
        {
            errors.Add($"Gateway:MaxMessageBytes must be between 1024 and 67108864 (was {o.MaxMessageBytes}).");
        }

        if (o.SendQueueCapacity < 1)
        {
            errors.Add($"Gateway:SendQueueCapacity must be at least 1 (was {o.SendQueueCapacity}).");
        }

        if (o.SendQueueMaxBytes < o.MaxMessageBytes)
        {
            errors.Add($"Gateway:SendQueueMaxBytes must be at least MaxMessageBytes ({o.MaxMessageBytes}) (was {o.SendQueueMaxBytes}).");
        }

        if (o.MaxInFlightPerSocket < 1)
        {
            errors.Add($"Gateway:MaxInFlightPerSocket must be at least 1 (was {o.MaxInFlightPerSocket}).");
        }

        if (o.UnavailableRetryAfter < TimeSpan.FromSeconds(1) || o.UnavailableRetryAfter > TimeSpan.FromMinutes(5))
        {
            errors.Add($"Gateway:UnavailableRetryAfter must be between 00:00:01 and 00:05:00 (was {o.UnavailableRetryAfter}).");
        }

        if (o.BudgetRequestSize < 1)
        {
            errors.Add($"Gateway:BudgetRequestSize must be at least 1 (was {o.BudgetRequestSize}).");
        }

        for (var i = 0; i < o.AdminKeyHashes.Count; i++)
        {
            if (!Authentication.ApiKeyHash.TryParseHex(o.AdminKeyHashes[i], out _))
            {
                errors.Add($"Gateway:AdminKeyHashes:{i} must be the 64-character hex SHA-256 of a key (was '{o.AdminKeyHashes[i]}').");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"Gateway:{name} must be positive (was {value}).");
        }
    }
}
