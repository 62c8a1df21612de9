using System.Buffers;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;

namespace Conduit.Runtime.Transport;

/// <summary>
/// Encodes <see cref="ClusterMessage"/>s as one compact JSON object per frame. Arguments are
/// serialized against the method's declared parameter types and results against the declared result
/// type, so the receiver gets the types the interface promises (grain and observer references
/// included, through the serializer options' converters). Reading is streaming, straight off the
/// frame, with the method (for arguments) or the pending call's result type (for responses) known
/// before the values arrive.
/// </summary>
internal sealed class MessageCodec(JsonSerializerOptions serializerOptions)
{
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
        var writer = _writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.Reset(buffer);
        try
        {
            Write(writer, message);
            writer.Flush();
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
    {
        var reader = new Utf8JsonReader(frame, new JsonReaderOptions { MaxDepth = 256 });
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject);
        MessageKind kind = 0;
        long id = 0, timeoutMs = 0;
        string? target = null, errorType = null, errorMessage = null, errorStack = null, address = null, decodeError = null;
        MethodInfo? method = null;
        object?[]? arguments = null;
        object? result = null;
        List<string>? chain = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            var property = name.Length == 1 ? (char)name[0] : name.Length == 2 ? (char)name[1] : '?';
            var isError = name.Length == 2 && name[0] == (byte)'e';
            reader.Read();
            if (isError)
            {
                switch (property)
                {
                    case 't': errorType = reader.GetString(); break;
                    case 'm': errorMessage = reader.GetString(); break;
                    case 's': errorStack = reader.GetString(); break;
                    default: reader.Skip(); break;
                }

                continue;
            }

            switch (property)
            {
                case 'k': kind = (MessageKind)reader.GetInt32(); break;
                case 'i': id = reader.GetInt64(); break;
                case 't': target = reader.GetString(); break;
                case 'm':
                    var key = reader.GetString()!;
                    method = MethodRegistry.Find(key);
                    decodeError ??= method is null ? $"Unknown method '{key}': the interface is not loaded in this process." : null;
                    break;
                case 'c':
                    chain = [];
                    while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        chain.Add(reader.GetString()!);
                    }

                    break;
                case 'o': timeoutMs = reader.GetInt64(); break;
                case 'a':
                    if (method is null)
                    {
                        reader.Skip();
                        break;
                    }

                    arguments = ReadArguments(ref reader, method, ref decodeError);
                    break;
                case 'r':
                    var resultType = resultTypeOf(id);
                    if (resultType is null)
                    {
                        reader.Skip();
                        break;
                    }

                    try
                    {
                        result = JsonSerializer.Deserialize(ref reader, resultType, serializerOptions);
                    }
                    catch (JsonException e)
                    {
                        decodeError = $"The result could not be read as {resultType.Name}: {e.Message}";
                    }

                    break;
                case 's': address = reader.GetString(); break;
                default: reader.Skip(); break;
            }
        }

        return new ClusterMessage
        {
            Kind = kind, Id = id, Target = target, Method = method, Arguments = arguments, CallChain = chain, TimeoutMs = timeoutMs,
            Result = result, ErrorType = errorType, ErrorMessage = errorMessage, ErrorStack = errorStack, Address = address, DecodeError = decodeError,
        };
    }

    private object?[] ReadArguments(ref Utf8JsonReader reader, MethodInfo method, ref string? decodeError)
    {
        var types = ParameterTypes.GetOrAdd(method, static m => m.GetParameters().Select(p => p.ParameterType).ToArray());
        var values = new object?[types.Length];
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (index >= types.Length)
            {
                decodeError ??= $"Too many arguments for {method.Name}.";
                reader.Skip();
                continue;
            }

            try
            {
                values[index] = JsonSerializer.Deserialize(ref reader, types[index], serializerOptions);
            }
            catch (JsonException e)
            {
                decodeError ??= $"Argument {index} of {method.Name} could not be read as {types[index].Name}: {e.Message}";
            }

            index++;
        }

        if (index != types.Length)
        {
            decodeError ??= $"{method.Name} takes {types.Length} arguments, got {index}.";
        }

        return values;
    }

    private void Write(Utf8JsonWriter writer, ClusterMessage message)
    {
        writer.WriteStartObject();
        writer.WriteNumber("k", (int)message.Kind);
        if (message.Id != 0)
        {
            writer.WriteNumber("i", message.Id);
        }

        if (message.Target is not null)
        {
            writer.WriteString("t", message.Target);
        }

        if (message.Method is { } method)
        {
            writer.WriteString("m", MethodRegistry.KeyOf(method));
        }

        if (message.CallChain is { Count: > 0 } chain)
        {
            writer.WriteStartArray("c");
            foreach (var link in chain)
            {
                writer.WriteStringValue(link);
            }

            writer.WriteEndArray();
        }

        if (message.TimeoutMs != 0)
        {
            writer.WriteNumber("o", message.TimeoutMs);
        }

        if (message.Arguments is { } arguments && message.Method is { } m)
        {
            var types = ParameterTypes.GetOrAdd(m, static x => x.GetParameters().Select(p => p.ParameterType).ToArray());
            writer.WriteStartArray("a");
            for (var i = 0; i < arguments.Length; i++)
            {
                JsonSerializer.Serialize(writer, arguments[i], types[i], serializerOptions);
            }

            writer.WriteEndArray();
        }

        if (message.ResultType is { } resultType)
        {
            writer.WritePropertyName("r");
            JsonSerializer.Serialize(writer, message.Result, resultType, serializerOptions);
        }

        if (message.ErrorType is not null)
        {
            writer.WriteString("et", message.ErrorType);
            writer.WriteString("em", message.ErrorMessage);
            writer.WriteString("es", message.ErrorStack);
        }

        if (message.Address is not null)
        {
            writer.WriteString("s", message.Address);
        }

        writer.WriteEndObject();
    }

    private static void Expect(bool condition)
    {
        if (!condition)
        {
            throw new InvalidDataException("A cluster frame is not a JSON object.");
        }
    }
}
