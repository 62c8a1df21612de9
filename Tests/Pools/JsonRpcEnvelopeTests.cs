using System.Text;
using System.Text.Json;
using Conduit.Grains.JsonRpc;

namespace Conduit.Tests.Pools;

public sealed class JsonRpcEnvelopeTests
{
    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":7,"method":"echo","params":{"id":1}}""", "7")]
    [InlineData("""{"jsonrpc":"2.0","method":"echo","params":[1,{"id":"x"}],"id":"a\"b"}""", "\"a\\\"b\"")]
    [InlineData("""{ "id" : null , "method":"m"}""", "null")]
    public void TryParse_FindsTopLevelId(string json, string expectedId)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.True(JsonRpcEnvelope.TryParse(bytes, out var envelope));
        Assert.True(envelope.IsObject);
        Assert.True(envelope.HasMethod);
        Assert.Equal(expectedId, envelope.IdJson(bytes));
    }

    [Fact]
    public void WithId_ReplacesOnlyTheId()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":"client-1","method":"echo","params":{"id":5}}""");
        JsonRpcEnvelope.TryParse(bytes, out var envelope);
        var rewritten = envelope.WithId(bytes, "42"u8);
        using var doc = JsonDocument.Parse(rewritten);
        Assert.Equal(42, doc.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(5, doc.RootElement.GetProperty("params").GetProperty("id").GetInt32());
    }

    [Fact]
    public void TryParse_Notification_NoId()
    {
        Assert.True(JsonRpcEnvelope.TryParse("""{"jsonrpc":"2.0","method":"n"}"""u8, out var envelope));
        Assert.False(envelope.HasId);
    }

    [Theory]
    [InlineData("}{ garbage")]
    [InlineData("""{"id":1""")]
    [InlineData("""{"id":1} {}""")]
    public void TryParse_NotJson_False(string text) => Assert.False(JsonRpcEnvelope.TryParse(Encoding.UTF8.GetBytes(text), out _));

    [Fact]
    public void TryParse_Array_NotAnObject()
    {
        Assert.True(JsonRpcEnvelope.TryParse("""[{"id":1}]"""u8, out var envelope));
        Assert.False(envelope.IsObject);
    }

    [Fact]
    public void Errors_CarryCodeIdAndData()
    {
        using var doc = JsonDocument.Parse(JsonRpcErrors.PoolExhausted("\"q\"", "main", TimeSpan.FromMilliseconds(1500)));
        Assert.Equal("q", doc.RootElement.GetProperty("id").GetString());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(-32002, error.GetProperty("code").GetInt32());
        Assert.Equal("main", error.GetProperty("data").GetProperty("pool").GetString());
        Assert.Equal(1500, error.GetProperty("data").GetProperty("waitedMs").GetInt64());
    }
}
