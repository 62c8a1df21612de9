using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conduit.Runtime.Hosting;

/// <summary>
/// Runs the options validation that <c>ValidateOnStart</c> registered before the host starts, so that a process with bad
/// configuration says what is wrong, each bad value by name, and exits with code 1, instead of ending in an unhandled
/// exception and its stack trace.
/// </summary>
public static class StartupValidation
{
    /// <summary>False (after writing every failure to <paramref name="error"/>) when some configured value is invalid.</summary>
    public static bool TryValidate(IServiceProvider services, TextWriter error)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (OptionsValidationException e)
        {
            WriteFailures(error, e.Failures);
            return false;
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is OptionsValidationException))
        {
            WriteFailures(error, e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(i => i.Failures));
            return false;
        }
    }

    private static void WriteFailures(TextWriter error, IEnumerable<string> failures)
    {
        error.WriteLine("The configuration is invalid; nothing was started:");
        foreach (var failure in failures)
        {
            error.WriteLine("  - " + failure);
        }
    }
}
