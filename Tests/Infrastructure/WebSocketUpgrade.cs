using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;

namespace Conduit.Tests.Infrastructure;

/// <summary>Attempts a WebSocket upgrade with a real <see cref="ClientWebSocket"/> and reports how it was answered.</summary>
public static class WebSocketUpgrade
{
    /// <summary>The HTTP status of a refusal and its Retry-After (101 and null when the upgrade was accepted); 10 s at most.</summary>
    public static async Task<(HttpStatusCode Status, RetryConditionHeaderValue? RetryAfter)> TryAsync(Uri uri, string? bearerKey)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (bearerKey is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + bearerKey);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await socket.ConnectAsync(uri, cts.Token);
            socket.Abort();
            return (HttpStatusCode.SwitchingProtocols, null);
        }
        catch (WebSocketException)
        {
            var retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true
                ? RetryConditionHeaderValue.Parse(values.First())
                : null;
            return (socket.HttpStatusCode, retryAfter);
        }
    }
}
