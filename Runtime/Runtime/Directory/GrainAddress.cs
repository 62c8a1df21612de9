using Conduit.Runtime.Membership;

namespace Conduit.Runtime.Directory;

/// <summary>Where an activation lives: the grain, its silo and the activation's id.</summary>
/// <param name="Grain">The grain.</param>
/// <param name="Silo">The silo that hosts the activation.</param>
/// <param name="ActivationId">The activation (a new one after each re-activation).</param>
public sealed record GrainAddress(GrainId Grain, SiloAddress Silo, string ActivationId);
