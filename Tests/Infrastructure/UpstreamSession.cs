using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Conduit.Tests.Infrastructure;

/// <summary>One accepted socket of an <see cref="UpstreamServer"/>: reads messages and answers each one concurrently.</summary>
internal sealed class UpstreamSession(UpstreamServer server, int number, WebSocket socket, HttpContext context)
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<Task, byte> _handlers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly object _lifetime = new();
    private bool _ended;

    public async Task RunAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        long arrival = 0;
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var stall = server.Faults.ReadStall;
                if (stall > TimeSpan.Zero)
                {
                    await Task.Delay(stall, _stop.Token);
                }

                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(4096), _stop.Token);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    break;
                }

                var text = Encoding.UTF8.GetString(buffer.WrittenSpan);
                var handler = HandleMessageAsync(text, arrival++);
                _handlers.TryAdd(handler, 0);
                _ = handler.ContinueWith(t => _handlers.TryRemove(t, out _), TaskScheduler.Default);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer went away or the socket was aborted: nothing to answer any more.
        }
        finally
        {
            _stop.Cancel();
            await Task.WhenAll(_handlers.Keys.ToArray());
        }
    }

    public void Abort()
    {
        // Kestrel recycles the HttpContext once the request has returned, so the context is only touched while the
        // request is still running (End waits for an abort in progress).
        lock (_lifetime)
        {
            if (_ended)
            {
                return;
            }

            _stop.Cancel();
            socket.Abort();
            context.Abort();
        }
    }

    /// <summary>Called by the server before the request returns: from now on <see cref="Abort"/> does nothing.</summary>
    public void End()
    {
        lock (_lifetime)
        {
            _ended = true;
        }
    }

    public async Task CloseAsync()
    {
        try
        {
            await _sendLock.WaitAsync(_stop.Token);
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "server closing", CancellationToken.None);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Already gone.
        }
    }

    public async Task SendAsync(string message)
    {
        try
        {
            await _sendLock.WaitAsync(_stop.Token);
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, _stop.Token);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The socket died while we answered: the client sees the socket failure instead.
        }
    }

    private async Task HandleMessageAsync(string text, long arrival)
    {
        await Task.Yield();
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            await SendAsync("""{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}""");
            return;
        }

        var after = new List<Func<Task>>();
        string? reply;
        if (node is JsonArray batch)
        {
            if (batch.Count == 0)
            {
                reply = """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}""";
            }
            else
            {
                var answers = await Task.WhenAll(batch.Select(item => AnswerAsync(item, arrival, after)));
                if (answers.Any(a => a is null && DroppedOrSilent))
                {
                    return;
                }

                var present = answers.Where(a => a is not null).ToList();
                reply = present.Count == 0 ? null : "[" + string.Join(",", present) + "]";
            }
        }
        else
        {
            reply = await AnswerAsync(node, arrival, after);
        }

        if (reply is null || DroppedOrSilent)
        {
            return;
        }

        await SendAsync(server.Faults.SendGarbage ? "}{ this is not json" : reply);
        foreach (var action in after)
        {
            await action();
        }
    }

    private bool DroppedOrSilent => server.Faults.NeverAnswer || server.Faults.DropOnRequest || _stop.IsCancellationRequested;

    private async Task<string?> AnswerAsync(JsonNode? message, long arrival, List<Func<Task>> after)
    {
        if (message is JsonObject answer && !answer.ContainsKey("method") && answer.ContainsKey("id") && (answer.ContainsKey("result") || answer.ContainsKey("error")))
        {
            // A client's response to a request this server pushed: recorded, never answered.
            server.Record(new UpstreamRequest(number, UpstreamServer.ResponseMethod, answer["id"]?.ToJsonString() ?? "null") { Arrival = arrival });
            return null;
        }

        if (message is not JsonObject request || request["method"] is not JsonValue methodValue || !methodValue.TryGetValue<string>(out var method))
        {
            return """{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}""";
        }

        var hasId = request.TryGetPropertyValue("id", out var id);
        var idJson = hasId ? (id?.ToJsonString() ?? "null") : null;
        server.Record(new UpstreamRequest(number, method, idJson) { Arrival = arrival });
        if (server.Faults.DropOnRequest)
        {
            Abort();
            return null;
        }

        var parameters = request["params"];
        var delay = server.Faults.ReplyDelay + (method == "ping" ? server.Faults.ProbeDelay : TimeSpan.Zero);
        if (delay > TimeSpan.Zero)
        {
            await DelayAsync(delay);
        }

        var (result, error) = await ExecuteAsync(method, parameters, after);
        if (!hasId)
        {
            return null;
        }

        var response = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id?.DeepClone() };
        if (error is not null)
        {
            response["error"] = error;
        }
        else
        {
            response["result"] = result;
        }

        return response.ToJsonString();
    }

    private async Task<(JsonNode? Result, JsonObject? Error)> ExecuteAsync(string method, JsonNode? parameters, List<Func<Task>> after)
    {
        switch (method)
        {
            case "echo":
                return (parameters?.DeepClone(), null);
            case "add":
                return (parameters is JsonArray numbers ? numbers.Sum(n => n!.GetValue<double>()) : 0, null);
            case "error":
                return (null, new JsonObject { ["code"] = -32000, ["message"] = "requested error", ["data"] = parameters?.DeepClone() });
            case "ping":
                return ("pong", null);
            case "sleep":
                await DelayAsync(TimeSpan.FromMilliseconds(parameters?["ms"]?.GetValue<int>() ?? 0));
                return (null, null);
            case "notify_me":
            {
                var count = parameters?["count"]?.GetValue<int>() ?? 1;
                after.Add(async () =>
                {
                    for (var i = 0; i < count; i++)
                    {
                        await SendAsync($$$"""{"jsonrpc":"2.0","method":"notify","params":{"seq":{{{i}}}}}""");
                    }
                });
                return ("ok", null);
            }

            case "subscribe":
            {
                var count = parameters?["count"]?.GetValue<int>() ?? 3;
                var interval = TimeSpan.FromMilliseconds(parameters?["intervalMs"]?.GetValue<int>() ?? 10);
                var subscription = server.NextSubscriptionId();
                after.Add(async () =>
                {
                    for (var i = 0; i < count && !_stop.IsCancellationRequested; i++)
                    {
                        await DelayAsync(interval);
                        await SendAsync($$$"""{"jsonrpc":"2.0","method":"subscription","params":{"subscription":"{{{subscription}}}","result":{{{i}}}}}""");
                    }
                });
                return (subscription, null);
            }

            // Enough of an Ethereum node for an unmodified Ethereum library (Tests/Interop): chain id, block number,
            // and a newHeads subscription that announces three blocks.
            case "eth_chainId":
                return ("0x539", null); // 1337, a development chain
            case "eth_blockNumber":
                return ("0x10", null);
            case "eth_subscribe" when parameters is JsonArray { Count: > 0 } kind && kind[0]?.GetValue<string>() == "newHeads":
            {
                var subscription = "0x" + Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(server.NextSubscriptionId())).ToLowerInvariant();
                after.Add(async () =>
                {
                    for (var block = 0x11; block <= 0x13 && !_stop.IsCancellationRequested; block++)
                    {
                        await DelayAsync(TimeSpan.FromMilliseconds(20));
                        var head = new JsonObject { ["number"] = $"0x{block:x}", ["hash"] = $"0x{new string('a', 62)}{block:x2}", ["parentHash"] = "0x" + new string('b', 64) };
                        var notification = new JsonObject
                        {
                            ["jsonrpc"] = "2.0",
                            ["method"] = "eth_subscription",
                            ["params"] = new JsonObject { ["subscription"] = subscription, ["result"] = head },
                        };
                        await SendAsync(notification.ToJsonString());
                    }
                });
                return (subscription, null);
            }

            case "eth_unsubscribe":
                return (true, null);

            // Enough of a Model Context Protocol server for the MCP SDK's client (Tests/Interop): the handshake, one
            // tool, and progress notifications sent before a tool's result when the call asks for them.
            case "initialize":
                return (new JsonObject
                {
                    ["protocolVersion"] = parameters?["protocolVersion"]?.DeepClone() ?? "2025-06-18",
                    ["capabilities"] = new JsonObject { ["tools"] = new JsonObject() },
                    ["serverInfo"] = new JsonObject { ["name"] = "conduit-test-upstream", ["version"] = "1.0.0" },
                }, null);
            case "tools/list":
                return (new JsonObject
                {
                    ["tools"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "echo",
                        ["description"] = "Answers with the text it was given",
                        ["inputSchema"] = new JsonObject
                        {
                            ["type"] = "object",
                            ["properties"] = new JsonObject { ["text"] = new JsonObject { ["type"] = "string" } },
                            ["required"] = new JsonArray("text"),
                        },
                    }),
                }, null);
            case "tools/call":
            {
                if (parameters?["_meta"]?["progressToken"] is { } token)
                {
                    // A tool that takes its time, reporting progress as it goes. (Sent back to back with the result, the
                    // MCP SDK's client would see the result first: it handles notifications a microtask later than
                    // responses that arrive in the same read.)
                    for (var step = 1; step <= 2; step++)
                    {
                        await SendAsync($$$"""{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":{{{token.ToJsonString()}}},"progress":{{{step}}},"total":2}}""");
                        await DelayAsync(TimeSpan.FromMilliseconds(50));
                    }
                }

                var text = parameters?["arguments"]?["text"]?.GetValue<string>() ?? string.Empty;
                return (new JsonObject { ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }) }, null);
            }

            default:
                return (null, new JsonObject { ["code"] = -32601, ["message"] = "Method not found" });
        }
    }

    private async Task DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // The socket is going away; the reply will not be sent.
        }
    }
}
