using Microsoft.Extensions.Options;

namespace Conduit.Grains.Quotas;

/// <summary>Reports every bad value of <see cref="QuotaOptions"/> by name.</summary>
internal sealed class QuotaOptionsValidator : IValidateOptions<QuotaOptions>
{
    public ValidateOptionsResult Validate(string? name, QuotaOptions options)
    {
        var errors = new List<string>();
        if (options.Tiers.Count == 0)
        {
            errors.Add("Quotas:Tiers must define at least one tier.");
        }

        foreach (var (tierName, tier) in options.Tiers)
        {
            if (tier.MaxSockets < 0)
            {
                errors.Add($"Quotas:Tiers:{tierName}:MaxSockets must be 0 or more (was {tier.MaxSockets}).");
            }

            if (tier.MessagesPerMinute < 0)
            {
                errors.Add($"Quotas:Tiers:{tierName}:MessagesPerMinute must be 0 or more (was {tier.MessagesPerMinute}).");
            }

            if (tier.MaxSocketLifetime <= TimeSpan.Zero)
            {
                errors.Add($"Quotas:Tiers:{tierName}:MaxSocketLifetime must be positive (was {tier.MaxSocketLifetime}).");
            }
        }

        if (!options.Tiers.ContainsKey(options.DefaultTier))
        {
            errors.Add($"Quotas:DefaultTier '{options.DefaultTier}' is not a configured tier ({string.Join(", ", options.Tiers.Keys)}).");
        }

        foreach (var (tenant, settings) in options.Tenants)
        {
            if (settings.Tier is { } tier && !options.Tiers.ContainsKey(tier))
            {
                errors.Add($"Tenants:{tenant}:Tier '{tier}' is not a configured tier ({string.Join(", ", options.Tiers.Keys)}).");
            }
        }

        if (options.PermitTtl <= TimeSpan.Zero)
        {
            errors.Add($"Quotas:PermitTtl must be positive (was {options.PermitTtl}).");
        }

        if (options.SocketRetryAfter <= TimeSpan.Zero)
        {
            errors.Add($"Quotas:SocketRetryAfter must be positive (was {options.SocketRetryAfter}).");
        }

        if (options.BudgetSlicesPerMinute is < 1 or > 1000)
        {
            errors.Add($"Quotas:BudgetSlicesPerMinute must be between 1 and 1000 (was {options.BudgetSlicesPerMinute}).");
        }

        if (options.GrantValidity <= TimeSpan.Zero)
        {
            errors.Add($"Quotas:GrantValidity must be positive (was {options.GrantValidity}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
