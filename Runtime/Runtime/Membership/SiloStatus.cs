namespace Conduit.Runtime.Membership;

/// <summary>A silo's status in the membership table.</summary>
public enum SiloStatus
{
    /// <summary>Started, not yet taking grain calls.</summary>
    Joining,
    /// <summary>Taking grain calls; counted for placement.</summary>
    Active,
    /// <summary>Leaving gracefully: deactivating its grains; not counted for placement.</summary>
    ShuttingDown,
    /// <summary>Gone (left, or declared dead). Final: a dead silo never comes back; a restart is a new generation.</summary>
    Dead,
}
