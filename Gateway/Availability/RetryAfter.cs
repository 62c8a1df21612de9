using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Conduit.Gateway.Availability;

/// <summary>The Retry-After header of the gateway's refusals (429 before an upgrade, 503 while the cluster cannot serve).</summary>
internal static class RetryAfter
{
    /// <summary>Sets Retry-After to <paramref name="after"/> in whole seconds, rounded up, at least 1.</summary>
    public static void Set(HttpResponse response, TimeSpan after)
        => response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
