using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Conduit.Runtime.Transport;

/// <summary>
/// Encodes <see cref="ClusterMessage"/>s: a small binary header followed by the arguments or the result as JSON.
/// Arguments are serialized against the method's declared parameter types and results against the declared result
/// type, so the receiver gets the types the interface promises (grain and observer references included, through the
/// serializer options' converters).
/// </summary>
/// <remarks>
/// Frame layout (after the transport's length prefix), integers as unsigned LEB128 varints:
/// <code>
/// format   byte     0xC1 (version 1 of this layout)
/// kind     byte     MessageKind
/// id       varint
/// fields   byte     which of the following are present, in this order (bit 0 first)
///   target     string                   bit 0
///   method     string (the method key)  bit 1
///   chain      varint count, strings    bit 2
///   timeoutMs  varint                   bit 3
///   arguments  varint count, values     bit 4
///   result     value                    bit 5
///   error      3 strings (type, message, stack; each may be null)  bit 6
///   address    string                   bit 7
/// string = varint (UTF-8 byte length + 1, 0 for null), bytes
/// value  = 4-byte little-endian length, JSON (UTF-8)
/// </code>
/// The header was JSON too until the cluster-calls benchmark showed it taking a fifth of a remote call's CPU
/// (method keys and targets transcoded and property names parsed on every frame); the values stay JSON.
/// </remarks>
internal sealed class MessageCodec(JsonSerializerOptions serializerOptions)
{
    /// <summary>The first byte of every frame of this layout.</summary>
    public const byte Format = 0xC1;

    private const byte HasTarget = 1, HasMethod = 2, HasChain = 4, HasTimeout = 8, HasArguments = 16, HasResult = 32, HasError = 64, HasAddress = 128;

    private static readonly ConcurrentDictionary<MethodInfo, Type[]> ParameterTypes = new();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? _writer;

    /// <summary>The options arguments and results are serialized with.</summary>
    public JsonSerializerOptions SerializerOptions => serializerOptions;

    /// <summary>Encodes <paramref name="message"/>; throws if an argument or the result cannot be serialized.</summary>
    public byte[] Encode(ClusterMessage message)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        try
        {
            Write(buffer, message);
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (buffer.Capacity > 1 << 20)
            {
                _buffer = null; // Do not keep a huge buffer per thread.
                _writer = null;
            }
        }
    }

    /// <summary>Decodes a frame; <paramref name="resultTypeOf"/> gives the result type of the pending request with that id (null: unknown).</summary>
    public ClusterMessage Decode(in ReadOnlySequence<byte> frame, Func<long, Type?> resultTypeOf)
        => frame.IsSingleSegment ? Decode(frame.FirstSpan, resultTypeOf) : Decode(frame.ToArray(), resultTypeOf);

    private ClusterMessage Decode(ReadOnlySpan<byte> frame, Func<long, Type?> resultTypeOf)
    {
        var reader = new FrameReader(frame);
        if (reader.ReadByte() != Format)
        {
            throw new InvalidDataException("A cluster frame is not in this version's format (is every silo and client running the same version?).");
        }

        var kind = (MessageKind)reader.ReadByte();
        var id = (long)reader.ReadVarint();
        var fields = reader.ReadByte();
        string? target = null, errorType = null, errorMessage = null, errorStack = null, address = null, decodeError = null;
        MethodInfo? method = null;
        object?[]? arguments = null;
        object? result = null;
        List<string>? chain = null;
        long timeoutMs = 0;
        if ((fields & HasTarget) != 0)
        {
            target = reader.ReadString();
        }

        if ((fields & HasMethod) != 0)
        {
            if (!reader.TryReadStringBytes(out var key))
            {
                throw new InvalidDataException("A cluster frame has a null method.");
            }

            method = MethodRegistry.Find(key);
            decodeError ??= method is null ? $"Unknown method '{Encoding.UTF8.GetString(key)}': the interface is not loaded in this process." : null;
        }

        if ((fields & HasChain) != 0)
        {
            var count = reader.ReadCount();
            chain = new List<string>(count);
            for (var i = 0; i < count; i++)
            {
                chain.Add(reader.ReadString() ?? throw new InvalidDataException("A cluster frame has a null call chain entry."));
            }
        }

        if ((fields & HasTimeout) != 0)
        {
            timeoutMs = (long)reader.ReadVarint();
        }

        if ((fields & HasArguments) != 0)
        {
            var count = reader.ReadCount();
            var types = method is null ? [] : ParameterTypesOf(method);
            arguments = method is null ? null : new object?[types.Length];
            for (var i = 0; i < count; i++)
            {
                var value = reader.ReadValue();
                if (method is not null)
                {
                    ReadArgument(value, method, types, i, arguments!, ref decodeError);
                }
            }

            if (method is not null && count != arguments!.Length)
            {
                decodeError ??= $"{method.Name} takes {arguments.Length} arguments, got {count}.";
            }
        }

        if ((fields & HasResult) != 0)
        {
            var value = reader.ReadValue();
            if (resultTypeOf(id) is { } resultType)
            {
                try
                {
                    result = JsonSerializer.Deserialize(value, resultType, serializerOptions);
                }
                catch (JsonException e)
                {
                    decodeError = $"The result could not be read as {resultType.Name}: {e.Message}";
                }
            }
        }

        if ((fields & HasError) != 0)
        {
            errorType = reader.ReadString();
            errorMessage = reader.ReadString();
            errorStack = reader.ReadString();
        }

        if ((fields & HasAddress) != 0)
        {
            address = reader.ReadString();
        }

        return new ClusterMessage
        {
            Kind = kind, Id = id, Target = target, Method = method, Arguments = arguments, CallChain = chain, TimeoutMs = timeoutMs,
            Result = result, ErrorType = errorType, ErrorMessage = errorMessage, ErrorStack = errorStack, Address = address, DecodeError = decodeError,
        };
    }

    private static Type[] ParameterTypesOf(MethodInfo method)
        => ParameterTypes.GetOrAdd(method, static m => m.GetParameters().Select(p => p.ParameterType).ToArray());

    private void ReadArgument(ReadOnlySpan<byte> value, MethodInfo method, Type[] types, int index, object?[] arguments, ref string? decodeError)
    {
        if (index >= types.Length)
        {
            decodeError ??= $"Too many arguments for {method.Name}.";
            return;
        }

        try
        {
            arguments[index] = JsonSerializer.Deserialize(value, types[index], serializerOptions);
        }
        catch (JsonException e)
        {
            decodeError ??= $"Argument {index} of {method.Name} could not be read as {types[index].Name}: {e.Message}";
        }
    }

    private void Write(ArrayBufferWriter<byte> buffer, ClusterMessage message)
    {
        var fields = (byte)((message.Target is not null ? HasTarget : 0)
            | (message.Method is not null ? HasMethod : 0)
            | (message.CallChain is { Count: > 0 } ? HasChain : 0)
            | (message.TimeoutMs != 0 ? HasTimeout : 0)
            | (message.Arguments is not null && message.Method is not null ? HasArguments : 0)
            | (message.ResultType is not null ? HasResult : 0)
            | (message.ErrorType is not null ? HasError : 0)
            | (message.Address is not null ? HasAddress : 0));
        WriteByte(buffer, Format);
        WriteByte(buffer, (byte)message.Kind);
        WriteVarint(buffer, (ulong)message.Id);
        WriteByte(buffer, fields);
        if (message.Target is { } target)
        {
            WriteString(buffer, target);
        }

        if (message.Method is { } method)
        {
            WriteBytes(buffer, MethodRegistry.KeyBytesOf(method));
        }

        if (message.CallChain is { Count: > 0 } chain)
        {
            WriteVarint(buffer, (ulong)chain.Count);
            foreach (var link in chain)
            {
                WriteString(buffer, link);
            }
        }

        if (message.TimeoutMs != 0)
        {
            WriteVarint(buffer, (ulong)message.TimeoutMs);
        }

        if ((fields & HasArguments) != 0)
        {
            var arguments = message.Arguments!;
            var types = ParameterTypesOf(message.Method!);
            WriteVarint(buffer, (ulong)arguments.Length);
            for (var i = 0; i < arguments.Length; i++)
            {
                WriteValue(buffer, arguments[i], types[i]);
            }
        }

        if (message.ResultType is { } resultType)
        {
            WriteValue(buffer, message.Result, resultType);
        }

        if (message.ErrorType is not null)
        {
            WriteString(buffer, message.ErrorType);
            WriteString(buffer, message.ErrorMessage);
            WriteString(buffer, message.ErrorStack);
        }

        if (message.Address is { } address)
        {
            WriteString(buffer, address);
        }
    }

    private void WriteValue(ArrayBufferWriter<byte> buffer, object? value, Type type)
    {
        var start = buffer.WrittenCount;
        buffer.GetSpan(4);
        buffer.Advance(4); // room for the length, written once the value is
        var writer = _writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, type, serializerOptions);
        writer.Flush();
        var written = MemoryMarshal.AsMemory(buffer.WrittenMemory).Span;
        BinaryPrimitives.WriteInt32LittleEndian(written.Slice(start, 4), buffer.WrittenCount - start - 4);
    }

    private static void WriteByte(ArrayBufferWriter<byte> buffer, byte value)
    {
        buffer.GetSpan(1)[0] = value;
        buffer.Advance(1);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> buffer, ulong value)
    {
        var span = buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        buffer.Advance(i);
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string? value)
    {
        if (value is null)
        {
            WriteVarint(buffer, 0);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        WriteVarint(buffer, (ulong)length + 1);
        Encoding.UTF8.GetBytes(value, buffer.GetSpan(length));
        buffer.Advance(length);
    }

    private static void WriteBytes(ArrayBufferWriter<byte> buffer, ReadOnlySpan<byte> utf8)
    {
        WriteVarint(buffer, (ulong)utf8.Length + 1);
        utf8.CopyTo(buffer.GetSpan(utf8.Length));
        buffer.Advance(utf8.Length);
    }

    /// <summary>Reads the fields of one frame in order; a frame that ends early or lies about a length is invalid data.</summary>
    private ref struct FrameReader(ReadOnlySpan<byte> frame)
    {
        private readonly ReadOnlySpan<byte> _frame = frame;
        private int _position;

        public byte ReadByte()
        {
            if (_position >= _frame.Length)
            {
                throw Truncated();
            }

            return _frame[_position++];
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = ReadByte();
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new InvalidDataException("A cluster frame has a malformed number.");
        }

        public int ReadCount()
        {
            var count = ReadVarint();
            return count <= (ulong)(_frame.Length - _position) ? (int)count : throw Truncated(); // every item takes at least a byte
        }

        public string? ReadString() => TryReadStringBytes(out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

        /// <summary>Reads a string's UTF-8 bytes; false for a null string.</summary>
        public bool TryReadStringBytes(out ReadOnlySpan<byte> bytes)
        {
            var length = ReadVarint();
            bytes = length == 0 ? default : Take(length - 1);
            return length != 0;
        }

        public ReadOnlySpan<byte> ReadValue()
        {
            if (_frame.Length - _position < 4)
            {
                throw Truncated();
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(_frame.Slice(_position, 4));
            _position += 4;
            return Take(length);
        }

        private ReadOnlySpan<byte> Take(ulong length)
        {
            if (length > (ulong)(_frame.Length - _position))
            {
                throw Truncated();
            }

            var span = _frame.Slice(_position, (int)length);
            _position += (int)length;
            return span;
        }

        private static InvalidDataException Truncated() => new("A cluster frame ends before its fields do.");
    }
}
