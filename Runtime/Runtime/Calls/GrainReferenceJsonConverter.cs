using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conduit.Runtime.Calls;

/// <summary>
/// Writes grain and observer references (any interface deriving <see cref="IAddressable"/>) as their
/// grain id string ("type/key"), and reads them back as references bound to this process's runtime,
/// so references can travel as call arguments and results.
/// </summary>
internal sealed class GrainReferenceJsonConverter(RuntimeClient client) : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert)
        => typeToConvert.IsInterface && typeof(IAddressable).IsAssignableFrom(typeToConvert) && typeToConvert != typeof(IAddressable);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
        => (JsonConverter)Activator.CreateInstance(typeof(ReferenceConverter<>).MakeGenericType(typeToConvert), client)!;

    private sealed class ReferenceConverter<T>(RuntimeClient client) : JsonConverter<T>
        where T : class
    {
        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            if (reader.TokenType != JsonTokenType.String)
            {
                throw new JsonException($"A reference to {typeof(T).Name} must be a grain id string, not {reader.TokenType}.");
            }

            GrainId grainId;
            try
            {
                grainId = GrainId.Parse(reader.GetString()!);
            }
            catch (FormatException exception)
            {
                throw new JsonException(exception.Message, exception);
            }

            return (T)client.GetReference(typeof(T), grainId);
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
            => writer.WriteStringValue(((IAddressable)value).GetGrainId().ToString());
    }
}
