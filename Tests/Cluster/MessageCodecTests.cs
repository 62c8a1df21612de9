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
        var unknown = Codec.Decode(new ReadOnlySequence<byte>(RequestFrame("No.Such::M()", "1")), _ => null);
        Assert.Contains("Unknown method 'No.Such::M()'", unknown.DecodeError);

        var bad = Codec.Decode(new ReadOnlySequence<byte>(RequestFrame(MethodRegistry.KeyOf(Send), "\"not a payload\"", "[1]", "{}", "null")), _ => null);
        Assert.Contains("Argument 0", bad.DecodeError);

        var tooFew = Codec.Decode(new ReadOnlySequence<byte>(RequestFrame(MethodRegistry.KeyOf(Send), "null")), _ => null);
        Assert.Contains("takes 4 arguments, got 1", tooFew.DecodeError);
    }

    [Fact]
    public void Decode_TruncatedOrForeignFrame_InvalidDataWithClearMessage()
    {
        var frame = Codec.Encode(new ClusterMessage { Kind = MessageKind.Request, Id = 9, Target = "codecprobe/k", Method = Send, Arguments = [null, null, null, "n"] });

        for (var length = 0; length < frame.Length; length++)
        {
            var cut = new ReadOnlySequence<byte>(frame.AsMemory(0, length));
            Assert.Throws<InvalidDataException>(() => Codec.Decode(cut, _ => null));
        }

        var json = System.Text.Encoding.UTF8.GetBytes("""{"k":1,"i":3}""");
        var foreign = Assert.Throws<InvalidDataException>(() => Codec.Decode(new ReadOnlySequence<byte>(json), _ => null));
        Assert.Contains("same version", foreign.Message);
    }

    [Fact]
    public void Decode_FrameSplitAcrossSegments_SameMessage()
    {
        var frame = Codec.Encode(new ClusterMessage { Kind = MessageKind.Fault, Id = 300, ErrorType = "X.Y", ErrorMessage = "é ünïcode", ErrorStack = null, Address = "127.0.0.1:1@2" });
        var first = new Segment(frame.AsMemory(0, 5));
        var last = first.Append(frame.AsMemory(5));

        var decoded = Codec.Decode(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), _ => null);

        Assert.Equal((MessageKind.Fault, 300L, "X.Y", "é ünïcode", (string?)null, "127.0.0.1:1@2"), (decoded.Kind, decoded.Id, decoded.ErrorType, decoded.ErrorMessage, decoded.ErrorStack, decoded.Address));
    }

    /// <summary>A request frame written by hand, byte by byte as MessageCodec documents the layout.</summary>
    private static byte[] RequestFrame(string methodKey, params string[] jsonArguments)
    {
        var frame = new List<byte> { MessageCodec.Format, (byte)MessageKind.Request, 3, 0b0001_0011 }; // id 3; target, method, arguments
        AddString(frame, "a/b");
        AddString(frame, methodKey);
        frame.Add((byte)jsonArguments.Length);
        foreach (var json in jsonArguments)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(json);
            frame.AddRange(BitConverter.GetBytes(bytes.Length)); // 4-byte little-endian length
            frame.AddRange(bytes);
        }

        return frame.ToArray();
    }

    private static void AddString(List<byte> frame, string value)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(value);
        var length = (uint)bytes.Length + 1; // the byte length plus one (0 means null), as a LEB128 varint
        while (length >= 0x80)
        {
            frame.Add((byte)(length | 0x80));
            length >>= 7;
        }

        frame.Add((byte)length);
        frame.AddRange(bytes);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
