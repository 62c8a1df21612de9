using System.Text.Json;
using System.Text.Json.Serialization;
using Conduit.Runtime.Calls;

namespace Conduit.Runtime.Transport;

/// <summary>
/// Serializes grain and observer references (any interface deriving <see cref="IAddressable"/>) as their
/// grain id string, and reads them back as references of the receiving process.
/// </summary>
internal sealed class AddressableJsonConverterFactory(RuntimeClient client) : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsInterface && typeof(IAddressable).IsAssignableFrom(typeToConvert);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
        => (JsonConverter)Activator.CreateInstance(typeof(AddressableConverter<>).MakeGenericType(typeToConvert), client)!;

    private sealed class AddressableConverter<T>(RuntimeClient client) : JsonConverter<T>
        where T : class
    {
        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            var id = reader.GetString() ?? throw new JsonException($"Expected a grain id string for {typeof(T).Name}.");
            return (T)client.GetReference(typeof(T), GrainId.Parse(id));
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            var id = value switch
            {
                GrainProxy proxy => proxy.GrainId,
                Grain grain => grain.GrainId,
                _ => throw new JsonException($"A {value.GetType().Name} cannot be sent to another process as {typeof(T).Name}: pass a grain reference, or an observer reference from CreateObjectReference."),
            };
            writer.WriteStringValue(id.ToString());
        }
    }
}
