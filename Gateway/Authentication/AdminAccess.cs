using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
        var hashes = http.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.AdminKeyHashes;
        if (hashes.Count == 0)
        {
            return IsLoopback(http.Connection.RemoteIpAddress)
                ? await next(context)
                : Results.Problem(
                    "Operator endpoints are served to loopback clients only until Gateway:AdminKeyHashes is configured (see docs/gateway.md).",
                    statusCode: StatusCodes.Status403Forbidden);
        }

        if (PresentedKey(http.Request) is { Length: > 0 } key && Matches(key, hashes))
        {
            return await next(context);
        }

        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Problem("An admin key is required: Authorization: Bearer <key> or ?admin_key=<key>.", statusCode: StatusCodes.Status401Unauthorized);
    }

    private static bool IsLoopback(IPAddress? address) => address is not null && IPAddress.IsLoopback(address);

    private static string? PresentedKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return request.Query["admin_key"].FirstOrDefault();
    }

    private static bool Matches(string key, IReadOnlyList<string> hashes)
    {
        var presented = ApiKeyHash.Compute(key);
        var match = false;
        foreach (var hex in hashes)
        {
            // Every configured hash is compared, in constant time, whatever matched before.
            match |= ApiKeyHash.TryParseHex(hex, out var hash) && CryptographicOperations.FixedTimeEquals(presented, hash);
        }

        return match;
    }
}
