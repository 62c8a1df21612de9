using System.Text.Json;
using Conduit.Grains;

namespace Conduit.Gateway.JsonRpc;

/// <summary>
/// Parses and validates client frames as JSON-RPC 2.0: invalid JSON gives one -32700 answer, an empty batch or a
/// non-object one -32600 answer, and each invalid batch element its own -32600 answer, as the specification says.
/// </summary>
internal static class JsonRpcFrameParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static JsonRpcFrame Parse(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException)
        {
            return Single(JsonRpcItem.Invalid(JsonRpcErrors.Create("null", JsonRpcErrorCodes.ParseError, "Parse error")));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                return Single(Validate(root));
            }

            var count = root.GetArrayLength();
            if (count == 0)
            {
                return Single(JsonRpcItem.Invalid(JsonRpcErrors.Create("null", JsonRpcErrorCodes.InvalidRequest, "Invalid Request: empty batch")));
            }

            var items = new JsonRpcItem[count];
            var i = 0;
            foreach (var element in root.EnumerateArray())
            {
                items[i++] = Validate(element);
            }

            return new JsonRpcFrame(IsBatch: true, items);
        }
    }

    private static JsonRpcFrame Single(JsonRpcItem item) => new(IsBatch: false, [item]);

    private static JsonRpcItem Validate(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return Invalid("null", "Invalid Request: not an object");
        }

        var hasId = element.TryGetProperty("id", out var id);
        var idJson = hasId && id.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null ? id.GetRawText() : "null";
        if (hasId && id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
        {
            return Invalid("null", "Invalid Request: id must be a string, a number or null");
        }

        // A member given twice is ambiguous: which id to rewrite and answer with, which method the upstream runs.
        if (RepeatedMember(element) is { } repeated)
        {
            return Invalid(repeated == "id" ? "null" : idJson, $"Invalid Request: member '{repeated}' appears more than once");
        }

        if (!element.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || !version.ValueEquals("2.0"))
        {
            return Invalid(idJson, "Invalid Request: jsonrpc must be \"2.0\"");
        }

        if (!element.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
        {
            return Invalid(idJson, "Invalid Request: method must be a string");
        }

        if (element.TryGetProperty("params", out var parameters) && parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
        {
            return Invalid(idJson, "Invalid Request: params must be an object or an array");
        }

        return JsonRpcItem.Valid(element.GetRawText(), idJson, isNotification: !hasId);
    }

    /// <summary>The first of the envelope's members (jsonrpc, id, method, params) that appears more than once, if any.</summary>
    private static string? RepeatedMember(JsonElement element)
    {
        var seen = 0;
        foreach (var property in element.EnumerateObject())
        {
            var bit = property.NameEquals("id") ? 1 : property.NameEquals("method") ? 2 : property.NameEquals("params") ? 4 : property.NameEquals("jsonrpc") ? 8 : 0;
            if ((seen & bit) != 0)
            {
                return property.Name;
            }

            seen |= bit;
        }

        return null;
    }

    private static JsonRpcItem Invalid(string idJson, string message)
        => JsonRpcItem.Invalid(JsonRpcErrors.Create(idJson, JsonRpcErrorCodes.InvalidRequest, message));
}
