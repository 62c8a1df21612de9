namespace Conduit.Runtime;

/// <summary>On a grain class: its activations idle for longer than this are deactivated.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CollectionAgeLimitAttribute : Attribute
{
    /// <summary>Days part of the age.</summary>
    public double Days { get; init; }

    /// <summary>Hours part of the age.</summary>
    public double Hours { get; init; }

    /// <summary>Minutes part of the age.</summary>
    public double Minutes { get; init; }

    /// <summary>Whether activations of this type are never collected for idleness.</summary>
    public bool AlwaysActive { get; init; }

    /// <summary>The age as a time span.</summary>
    public TimeSpan Amount => TimeSpan.FromDays(Days) + TimeSpan.FromHours(Hours) + TimeSpan.FromMinutes(Minutes);
}
