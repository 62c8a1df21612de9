using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conduit.Gateway.Dashboard;

/// <summary>Serves the live dashboard: one static page that polls the health and usage endpoints.</summary>
public static class DashboardEndpoints
{
    private static readonly Lazy<byte[]> _page = new(() =>
    {
        using var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream("Conduit.Gateway.Dashboard.dashboard.html")
            ?? throw new InvalidOperationException("The dashboard page is missing from the gateway assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>Maps <c>/dashboard</c>.</summary>
    public static RouteHandlerBuilder MapConduitDashboard(this IEndpointRouteBuilder endpoints)
        => endpoints.MapGet("/dashboard", (HttpContext context) =>
        {
            // The page loads nothing from elsewhere; say so to the browser.
            context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'";
            context.Response.Headers.CacheControl = "no-cache";
            return Results.Bytes(_page.Value, "text/html; charset=utf-8");
        });
}
