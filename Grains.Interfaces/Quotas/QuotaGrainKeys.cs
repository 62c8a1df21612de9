namespace Conduit.Grains;

/// <summary>Keys of the quota grain.</summary>
public static class QuotaGrainKeys
{
    /// <summary>The one quota grain of a cluster.</summary>
    public const string Global = "global";
}
