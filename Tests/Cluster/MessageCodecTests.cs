using System.Buffers;
using System.Text.Json;
using Conduit.Runtime;
using Conduit.Runtime.Transport;

namespace Conduit.Tests.Cluster;

public interface ICodecProbeGrain : IGrainWithStringKey
{
    Task<CodecPayload> Send(CodecPayload payload, List<int> numbers, Dictionary<string, double> weights, string? note);
}

public sealed record CodecPayload(string Name, int Count, DateTimeOffset At, IReadOnlyList<string> Tags);

public sealed class MessageCodecTests
{
    private static readonly MessageCodec Codec = new(new JsonSerializerOptions());
    private static readonly System.Reflection.MethodInfo Send = typeof(ICodecProbeGrain).GetMethod(nameof(ICodecProbeGrain.Send))!;

    private static ClusterMessage RoundTrip(ClusterMessage message, Type? resultType = null)
        => Codec.Decode(new ReadOnlySequence<byte>(Codec.Encode(message)), _ => resultType);

    [Fact]
    public void Decode_Request_ArgumentsComeBackAsDeclaredTypes()
    {
        var payload = new CodecPayload("p", 3, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), ["a", "b"]);
        var request = new ClusterMessage
        {
            Kind = MessageKind.Request, Id = 42, Target = "codecprobe/k", Method = Send, TimeoutMs = 1000, CallChain = ["x/1", "y/2"],
            Arguments = [payload, new List<int> { 1, 2 }, new Dictionary<string, double> { ["w"] = 0.5 }, null],
        };

        var decoded = RoundTrip(request);

        Assert.Null(decoded.DecodeError);
        Assert.Equal((MessageKind.Request, 42L, "codecprobe/k", 1000L), (decoded.Kind, decoded.Id, decoded.Target, decoded.TimeoutMs));
        Assert.Equal(Send, decoded.Method);
        Assert.Equal(["x/1", "y/2"], decoded.CallChain);
        var args = decoded.Arguments!;
        Assert.Equal(payload.Name, ((CodecPayload)args[0]!).Name);
        Assert.Equal(payload.Tags, ((CodecPayload)args[0]!).Tags);
        Assert.Equal(payload.At, ((CodecPayload)args[0]!).At);
        Assert.Equal([1, 2], (List<int>)args[1]!);
        Assert.Equal(0.5, ((Dictionary<string, double>)args[2]!)["w"]);
        Assert.Null(args[3]);
    }

    [Fact]
    public void Decode_Response_ResultReadAsPendingCallsType()
    {
        var result = new CodecPayload("r", 1, DateTimeOffset.UnixEpoch, []);

        var decoded = RoundTrip(new ClusterMessage { Kind = MessageKind.Response, Id = 7, Result = result, ResultType = typeof(CodecPayload) }, typeof(CodecPayload));

        Assert.Equal("r", Assert.IsType<CodecPayload>(decoded.Result).Name);
    }

    [Fact]
    public void Decode_Fault_CarriesTypeMessageAndStack()
    {
        var decoded = RoundTrip(new ClusterMessage { Kind = MessageKind.Fault, Id = 7, ErrorType = "X.Y", ErrorMessage = "bad", ErrorStack = "at Z" });

        Assert.Equal(("X.Y", "bad", "at Z"), (decoded.ErrorType, decoded.ErrorMessage, decoded.ErrorStack));
        var exception = ExceptionCodec.ToException(typeof(ArgumentException).FullName, "bad arg", "at Remote.Frame()");
        Assert.IsType<ArgumentException>(exception);
        Assert.Contains("at Remote.Frame()", exception.StackTrace);
        Assert.IsType<GrainCallException>(ExceptionCodec.ToException("No.Such.Exception", "m", null));
    }

    [Fact]
    public void Decode_UnknownMethodOrBadArgument_ReportsDecodeErrorInsteadOfThrowing()
    {
        var frame = System.Text.Encoding.UTF8.GetBytes("""{"k":1,"i":3,"t":"a/b","m":"No.Such::M()","a":[1]}""");
        var unknown = Codec.Decode(new ReadOnlySequence<byte>(frame), _ => null);
        Assert.Contains("Unknown method", unknown.DecodeError);

        var key = MethodRegistry.KeyOf(Send);
        var bad = System.Text.Encoding.UTF8.GetBytes($$"""{"k":1,"i":3,"t":"a/b","m":"{{key}}","a":["not a payload",[1],{},null]}""");
        Assert.Contains("Argument 0", Codec.Decode(new ReadOnlySequence<byte>(bad), _ => null).DecodeError);
    }
}
