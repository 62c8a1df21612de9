using System.Text;
using System.Text.Json;
using Conduit.Gateway.JsonRpc;

namespace Conduit.Tests.Gateway;

public sealed class JsonRpcFrameParserTests
{
    private static JsonRpcFrame Parse(string text) => JsonRpcFrameParser.Parse(Encoding.UTF8.GetBytes(text));

    private static (int Code, string Id) Error(string response)
    {
        using var doc = JsonDocument.Parse(response);
        return (doc.RootElement.GetProperty("error").GetProperty("code").GetInt32(), doc.RootElement.GetProperty("id").GetRawText());
    }

    [Fact]
    public void Parse_Request_KeepsTextAndId()
    {
        var frame = Parse("""{"jsonrpc":"2.0","id":"a-1","method":"echo","params":[1]}""");

        Assert.False(frame.IsBatch);
        var item = Assert.Single(frame.Items);
        Assert.Null(item.ErrorResponse);
        Assert.False(item.IsNotification);
        Assert.Equal("\"a-1\"", item.IdJson);
        Assert.Equal("""{"jsonrpc":"2.0","id":"a-1","method":"echo","params":[1]}""", item.Message);
    }

    [Fact]
    public void Parse_DuplicateMembersInsideParams_LeftToTheUpstream()
    {
        // Only the envelope's own members must be unambiguous (the service rewrites the id); params are the upstream's.
        var item = Assert.Single(Parse("""{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1,"a":2}}""").Items);

        Assert.Null(item.ErrorResponse);
    }

    [Fact]
    public void Parse_Notification_IsNotification()
    {
        var item = Assert.Single(Parse("""{"jsonrpc":"2.0","method":"log","params":{"a":1}}""").Items);

        Assert.True(item.IsNotification);
        Assert.NotNull(item.Message);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("""{"jsonrpc":"2.0","method":"a"} trailing""")]
    public void Parse_InvalidJson_ParseErrorWithNullId(string text)
    {
        var item = Assert.Single(Parse(text).Items);

        Assert.Equal((-32700, "null"), Error(item.ErrorResponse!));
    }

    [Theory]
    [InlineData("42", "null")]
    [InlineData("\"text\"", "null")]
    [InlineData("""{"jsonrpc":"1.0","id":1,"method":"a"}""", "1")]
    [InlineData("""{"id":1,"method":"a"}""", "1")]
    [InlineData("""{"jsonrpc":"2.0","id":7,"method":5}""", "7")]
    [InlineData("""{"jsonrpc":"2.0","id":"x","method":"a","params":3}""", "\"x\"")]
    [InlineData("""{"jsonrpc":"2.0","id":{"a":1},"method":"a"}""", "null")]
    [InlineData("[]", "null")]
    [InlineData("""{"jsonrpc":"2.0","id":7,"method":"echo","id":8}""", "null")]
    [InlineData("""{"jsonrpc":"2.0","id":7,"method":"echo","method":"drop"}""", "7")]
    [InlineData("""{"jsonrpc":"2.0","jsonrpc":"2.0","id":7,"method":"echo"}""", "7")]
    [InlineData("""{"jsonrpc":"2.0","id":7,"method":"echo","params":[1],"params":{}}""", "7")]
    public void Parse_NotJsonRpc_InvalidRequest(string text, string expectedId)
    {
        var item = Assert.Single(Parse(text).Items);

        Assert.Equal((-32600, expectedId), Error(item.ErrorResponse!));
    }

    [Fact]
    public void Parse_Batch_SplitsAndValidatesEachElement()
    {
        var frame = Parse("""[{"jsonrpc":"2.0","id":1,"method":"a"},1,{"jsonrpc":"2.0","method":"n"},{"foo":"bar"}]""");

        Assert.True(frame.IsBatch);
        Assert.Equal(4, frame.Items.Length);
        Assert.Null(frame.Items[0].ErrorResponse);
        Assert.Equal(-32600, Error(frame.Items[1].ErrorResponse!).Code);
        Assert.True(frame.Items[2].IsNotification);
        Assert.Equal(-32600, Error(frame.Items[3].ErrorResponse!).Code);
    }

    [Fact]
    public void Parse_TooDeep_ParseError()
    {
        var text = new string('[', 200) + new string(']', 200);

        Assert.Equal(-32700, Error(Assert.Single(Parse(text).Items).ErrorResponse!).Code);
    }

    [Fact]
    public void Create_WithData_WritesDataObject()
    {
        var text = JsonRpcErrors.Create("5", -32001, "Rate limited", ("retryAfterMs", 1500L));

        using var doc = JsonDocument.Parse(text);
        Assert.Equal("2.0", doc.RootElement.GetProperty("jsonrpc").GetString());
        Assert.Equal(5, doc.RootElement.GetProperty("id").GetInt32());
        Assert.Equal(1500, doc.RootElement.GetProperty("error").GetProperty("data").GetProperty("retryAfterMs").GetInt64());
    }
}
