using System.Text.Json;

namespace Conduit.Runtime;

/// <summary>The System.Text.Json settings the runtime uses for state and for the wire.</summary>
internal static class RuntimeJson
{
    /// <summary>Shared options (field-less records and public properties, as written).</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        IncludeFields = false,
    };
}
