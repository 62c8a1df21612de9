using System.Text.Json;

namespace Conduit.Tests.Gateway;

/// <summary>Small readers for JSON-RPC answers in tests.</summary>
internal static class JsonAssert
{
    public static JsonElement Parse(string? json)
    {
        Assert.NotNull(json);
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    public static int ErrorCode(JsonElement answer) => answer.GetProperty("error").GetProperty("code").GetInt32();

    public static string Id(JsonElement answer) => answer.GetProperty("id").GetRawText();

    public static string Request(object id, string method, string @params = "[]")
        => $$"""{"jsonrpc":"2.0","id":{{JsonSerializer.Serialize(id)}},"method":"{{method}}","params":{{@params}}}""";
}
