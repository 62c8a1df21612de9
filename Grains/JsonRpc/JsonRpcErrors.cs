using System.Text.Json;

namespace Conduit.Grains.JsonRpc;

/// <summary>Builds the JSON-RPC error responses the service itself returns.</summary>
internal static class JsonRpcErrors
{
    /// <summary>A response <c>{"jsonrpc":"2.0","id":ID,"error":{code,message,data}}</c>; <paramref name="idJson"/> is raw JSON (null = JSON null).</summary>
    public static string Create(string? idJson, int code, string message, IReadOnlyDictionary<string, object?>? data = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            writer.WriteRawValue(idJson ?? "null", skipInputValidation: true);
            writer.WriteStartObject("error");
            writer.WriteNumber("code", code);
            writer.WriteString("message", message);
            if (data is not null)
            {
                writer.WritePropertyName("data");
                JsonSerializer.Serialize(writer, data);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>-32004: the upstream failed or closed while the request was in flight.</summary>
    public static string UpstreamFailed(string? idJson, string pool, string reason)
        => Create(idJson, JsonRpcErrorCodes.UpstreamFailed, $"Upstream failed: {reason}", new Dictionary<string, object?> { ["pool"] = pool });

    /// <summary>-32005: no answer within the request timeout.</summary>
    public static string Timeout(string? idJson, TimeSpan timeout)
        => Create(idJson, JsonRpcErrorCodes.RequestTimeout, "Request timed out", new Dictionary<string, object?> { ["timeoutMs"] = (long)timeout.TotalMilliseconds });

    /// <summary>-32002: no lease in time or the queue is full.</summary>
    public static string PoolExhausted(string? idJson, string pool, TimeSpan waited)
        => Create(idJson, JsonRpcErrorCodes.PoolExhausted, "Pool exhausted", new Dictionary<string, object?> { ["pool"] = pool, ["waitedMs"] = (long)waited.TotalMilliseconds });

    /// <summary>-32003: a circuit breaker is open.</summary>
    public static string CircuitOpen(string? idJson, string pool, TimeSpan retryAfter)
        => Create(idJson, JsonRpcErrorCodes.CircuitOpen, "Circuit open", new Dictionary<string, object?> { ["pool"] = pool, ["retryAfterMs"] = (long)Math.Max(0, retryAfter.TotalMilliseconds) });
}
