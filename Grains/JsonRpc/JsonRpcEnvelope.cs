using System.Text.Json;

namespace Conduit.Grains.JsonRpc;

/// <summary>
/// Where the top-level members of one JSON-RPC message sit in its UTF-8 text, found with a single
/// forward scan (no DOM), so that ids can be swapped without re-serialising the message.
/// </summary>
internal readonly record struct JsonRpcEnvelope
{
    /// <summary>Whether the text is a JSON object (batches and other values are not single messages).</summary>
    public bool IsObject { get; init; }

    /// <summary>Whether the object has an "id" member.</summary>
    public bool HasId => IdLength > 0;

    /// <summary>Byte offset of the id value.</summary>
    public int IdStart { get; init; }

    /// <summary>Byte length of the id value (0 when absent).</summary>
    public int IdLength { get; init; }

    /// <summary>JSON token type of the id (Number, String or Null).</summary>
    public JsonTokenType IdType { get; init; }

    /// <summary>Whether the object has a "method" member (request or notification rather than response).</summary>
    public bool HasMethod { get; init; }

    /// <summary>Scans <paramref name="utf8"/>; returns false when it is not valid JSON.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out JsonRpcEnvelope envelope)
    {
        envelope = default;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                return !reader.Read();
            }

            int idStart = 0, idLength = 0;
            var idType = JsonTokenType.None;
            var hasMethod = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("id"u8);
                var isMethod = !isId && reader.ValueTextEquals("method"u8);
                reader.Read();
                if (isId)
                {
                    idStart = (int)reader.TokenStartIndex;
                    idType = reader.TokenType;
                    reader.Skip();
                    idLength = (int)reader.BytesConsumed - idStart;
                }
                else
                {
                    hasMethod |= isMethod;
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return false;
            }

            envelope = new JsonRpcEnvelope { IsObject = true, IdStart = idStart, IdLength = idLength, IdType = idType, HasMethod = hasMethod };
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The id as raw JSON text (e.g. <c>7</c> or <c>"a"</c>), or null when absent.</summary>
    public string? IdJson(ReadOnlySpan<byte> utf8)
        => HasId ? System.Text.Encoding.UTF8.GetString(utf8.Slice(IdStart, IdLength)) : null;

    /// <summary>A copy of <paramref name="utf8"/> with the id value replaced by <paramref name="newId"/> (raw JSON).</summary>
    public byte[] WithId(ReadOnlySpan<byte> utf8, ReadOnlySpan<byte> newId)
    {
        var result = new byte[utf8.Length - IdLength + newId.Length];
        utf8[..IdStart].CopyTo(result);
        newId.CopyTo(result.AsSpan(IdStart));
        utf8[(IdStart + IdLength)..].CopyTo(result.AsSpan(IdStart + newId.Length));
        return result;
    }
}
