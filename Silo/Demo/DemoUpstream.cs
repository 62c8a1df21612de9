using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Conduit.Silo.Demo;

/// <summary>
/// A small real JSON-RPC 2.0 WebSocket server run by the silo process itself (on a loopback port of its own, at
/// <see cref="Path"/>), so that the default run has an upstream to pool. Methods: <c>echo</c> (result = params), <c>ping</c> ("pong"), <c>add</c> (sum of a
/// number array), <c>time</c> (server UTC time); others get -32601. Notifications get no answer; batches work.
/// </summary>
internal static class DemoUpstream
{
    /// <summary>Where the demo upstream is served.</summary>
    public const string Path = "/demo/upstream";

    private const int MaxMessageBytes = 1024 * 1024;

    /// <summary>
    /// Unless "Demo:Enabled" is false or pool "demo" has a URL of its own, starts the demo upstream on its own loopback
    /// port (so it outlives the silo's shutdown: the pool's connections close cleanly) and points pool "demo" at it;
    /// other settings of pool "demo" (a mode, connection counts) are kept. Returns null when not started; dispose the
    /// result after the silo has stopped.
    /// </summary>
    public static async Task<WebApplication?> StartAsync(ConfigurationManager configuration)
    {
        if (!configuration.GetValue("Demo:Enabled", defaultValue: true) || configuration["Pools:demo:Url"] is not null)
        {
            return null;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var pipeline = ((IEndpointRouteBuilder)app).CreateApplicationBuilder().UseWebSockets();
        pipeline.Run(ServeAsync);
        app.Map(Path, pipeline.Build());
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        var settings = new Dictionary<string, string?> { ["Pools:demo:Url"] = $"ws://127.0.0.1:{address.Port}{Path}" };
        if (configuration["Pools:demo:MinConnections"] is null && configuration["Pools:demo:MaxConnections"] is null)
        {
            settings["Pools:demo:MinConnections"] = "1";
            settings["Pools:demo:MaxConnections"] = "4";
        }

        // Added first, so that every other source (command line, environment, appsettings) still overrides these.
        configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = settings });
        return app;
    }

    private static async Task ServeAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var sendLock = new SemaphoreSlim(1, 1);
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(4096), context.RequestAborted);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close && buffer.WrittenCount <= MaxMessageBytes);

                if (result.MessageType == WebSocketMessageType.Close || buffer.WrittenCount > MaxMessageBytes)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }

                if (Answer(buffer.WrittenSpan) is { } answer)
                {
                    await sendLock.WaitAsync(context.RequestAborted);
                    try
                    {
                        await socket.SendAsync(Encoding.UTF8.GetBytes(answer), WebSocketMessageType.Text, true, context.RequestAborted);
                    }
                    finally
                    {
                        sendLock.Release();
                    }
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The pool closed or dropped the connection.
        }
    }

    private static string? Answer(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return AnswerParsed(utf8);
        }
        catch (ArgumentException)
        {
            // JsonObject refuses a member given twice when it is first read. The pool shares this socket: answer (with the
            // id as JsonDocument, which allows repeats, reads it) rather than fail the socket and everyone's requests on it.
            using var document = JsonDocument.Parse(utf8.ToArray());
            var id = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("id", out var value) ? JsonNode.Parse(value.GetRawText()) : null;
            return Error(id, -32600, "Invalid Request: a member is given more than once").ToJsonString();
        }
    }

    private static string? AnswerParsed(ReadOnlySpan<byte> utf8)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(utf8);
        }
        catch (JsonException)
        {
            return Error(null, -32700, "Parse error").ToJsonString();
        }

        if (root is JsonArray batch)
        {
            var answers = new JsonArray();
            foreach (var item in batch)
            {
                if (AnswerOne(item) is { } a)
                {
                    answers.Add(a);
                }
            }

            return batch.Count == 0 ? Error(null, -32600, "Invalid Request").ToJsonString() : answers.Count == 0 ? null : answers.ToJsonString();
        }

        return AnswerOne(root)?.ToJsonString();
    }

    private static JsonObject? AnswerOne(JsonNode? message)
    {
        if (message is not JsonObject request || request["method"] is not JsonValue methodValue || !methodValue.TryGetValue<string>(out var method))
        {
            return Error(null, -32600, "Invalid Request");
        }

        var isNotification = !request.ContainsKey("id");
        var id = request["id"]?.DeepClone();
        var parameters = request["params"];
        JsonObject answer;
        switch (method)
        {
            case "echo":
                answer = Result(id, parameters?.DeepClone());
                break;
            case "ping":
                answer = Result(id, "pong");
                break;
            case "time":
                answer = Result(id, DateTimeOffset.UtcNow.ToString("O"));
                break;
            case "add" when parameters is JsonArray numbers && numbers.All(n => n is JsonValue v && v.TryGetValue<double>(out _)):
                answer = Result(id, numbers.Sum(n => n!.GetValue<double>()));
                break;
            case "add":
                answer = Error(id, -32602, "Invalid params: expected an array of numbers");
                break;
            default:
                answer = Error(id, -32601, $"Method not found: {method}");
                break;
        }

        return isNotification ? null : answer;
    }

    private static JsonObject Result(JsonNode? id, JsonNode? result) => new() { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result };

    private static JsonObject Error(JsonNode? id, int code, string message)
        => new() { ["jsonrpc"] = "2.0", ["id"] = id, ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };
}
