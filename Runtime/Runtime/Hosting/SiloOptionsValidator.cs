using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Hosting;

/// <summary>Checks <see cref="SiloOptions"/> at start-up and reports every bad value at once.</summary>
internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options)
    {
        var errors = new List<string>();
        Check(errors, nameof(options.ResponseTimeout), options.ResponseTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        Check(errors, nameof(options.CollectionAge), options.CollectionAge, TimeSpan.FromSeconds(1), TimeSpan.MaxValue);
        Check(errors, nameof(options.CollectionQuantum), options.CollectionQuantum, TimeSpan.FromMilliseconds(10), options.CollectionAge > TimeSpan.FromMilliseconds(10) ? options.CollectionAge : TimeSpan.MaxValue);
        Check(errors, nameof(options.ShutdownTimeout), options.ShutdownTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            var range = max == TimeSpan.MaxValue ? $"at least {min}" : $"between {min} and {max}";
            errors.Add($"{SiloOptions.SectionName}:{name} is {value}; it must be {range}.");
        }
    }
}
