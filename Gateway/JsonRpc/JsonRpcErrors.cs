using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Conduit.Gateway.JsonRpc;

/// <summary>Writes the JSON-RPC error responses the gateway itself returns.</summary>
internal static class JsonRpcErrors
{
    /// <summary>Error response with an optional data object of integer / string members.</summary>
    public static string Create(string idJson, int code, string message, params ReadOnlySpan<(string Name, object Value)> data)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WritePropertyName("id");
            writer.WriteRawValue(idJson, skipInputValidation: true);
            writer.WritePropertyName("error");
            writer.WriteStartObject();
            writer.WriteNumber("code", code);
            writer.WriteString("message", message);
            if (data.Length > 0)
            {
                writer.WritePropertyName("data");
                writer.WriteStartObject();
                foreach (var (name, value) in data)
                {
                    switch (value)
                    {
                        case long l: writer.WriteNumber(name, l); break;
                        case int i: writer.WriteNumber(name, i); break;
                        default: writer.WriteString(name, value.ToString()); break;
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
