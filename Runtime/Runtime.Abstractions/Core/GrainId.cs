namespace Conduit.Runtime;

/// <summary>Identity of a grain: its grain type name and its string key.</summary>
/// <param name="Type">The grain type name (the class name, or <see cref="GrainTypeAttribute"/>).</param>
/// <param name="Key">The primary key.</param>
public readonly record struct GrainId(string Type, string Key)
{
    /// <summary>Returns "type/key".</summary>
    public override string ToString() => $"{Type}/{Key}";

    /// <summary>Parses the "type/key" form written by <see cref="ToString"/>.</summary>
    public static GrainId Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var slash = value.IndexOf('/');
        if (slash <= 0)
        {
            throw new FormatException($"'{value}' is not a grain id: expected 'type/key'.");
        }

        return new GrainId(value[..slash], value[(slash + 1)..]);
    }
}
