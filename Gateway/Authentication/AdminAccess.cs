using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Gateway.Authentication;

/// <summary>
/// Guards the operator's endpoints (<c>/dashboard</c>, <c>/metrics</c>, <c>/api/usage/*</c>), which show every
/// tenant's usage. With admin keys configured (<see cref="GatewayOptions.AdminKeyHashes"/>) a request must carry one,
/// as <c>Authorization: Bearer</c> or the <c>admin_key</c> query parameter (for a browser opening the dashboard);
/// without any, only clients on the loopback interface are served, so a fresh install shows nothing to the network.
/// Health endpoints stay open for load balancers.
/// </summary>
internal static class AdminAccess
{
    /// <summary>Adds the guard to an endpoint.</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.AddEndpointFilter(CheckAsync);

    /// <summary>The filter: lets the request through or answers 401/403 itself.</summary>
    internal static async ValueTask<object?> CheckAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var adminKeys = http.RequestServices.GetRequiredService<AdminKeys>().Hashes;
        if (adminKeys.Count == 0)
        {
            return IsLoopback(http.Connection.RemoteIpAddress)
                ? await next(context)
                : Results.Problem(
                    "Operator endpoints are served to loopback clients only until Gateway:AdminKeyHashes is configured (see docs/gateway.md).",
                    statusCode: StatusCodes.Status403Forbidden);
        }

        if (adminKeys.IndexOf(KeyHashes.Presented(http.Request, "admin_key")) >= 0)
        {
            return await next(context);
        }

        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem("An admin key is required: Authorization: Bearer <key> or ?admin_key=<key>.", statusCode: StatusCodes.Status401Unauthorized);
    }

    private static bool IsLoopback(IPAddress? address) => address is not null && IPAddress.IsLoopback(address);
}

