using Microsoft.Extensions.Options;

namespace Conduit.Grains.Agents;

/// <summary>Checks the agents' settings and reports every bad value by name.</summary>
internal sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        const string prefix = AgentOptions.SectionName + ":";
        if (options.DedupWindow < TimeSpan.Zero)
        {
            errors.Add($"{prefix}DedupWindow {options.DedupWindow} must not be negative (0 turns de-duplication off).");
        }

        if (options.DedupMaxEntries < 0)
        {
            errors.Add($"{prefix}DedupMaxEntries {options.DedupMaxEntries} must not be negative (0 turns de-duplication off).");
        }

        if (options.DedupMaxResponseBytes < 0)
        {
            errors.Add($"{prefix}DedupMaxResponseBytes {options.DedupMaxResponseBytes} must not be negative.");
        }

        if (options.DedupMaxBytes < 0)
        {
            errors.Add($"{prefix}DedupMaxBytes {options.DedupMaxBytes} must not be negative.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
