namespace Conduit.Runtime.Activations;

/// <summary>Lifecycle of an activation.</summary>
internal enum ActivationState
{
    /// <summary>Created; the activation turn (construction, state read, OnActivateAsync) is pending or running.</summary>
    Activating,
    /// <summary>Serving requests.</summary>
    Valid,
    /// <summary>Finishing its running turns, then OnDeactivateAsync; new requests wait and are re-routed after.</summary>
    Deactivating,
    /// <summary>Gone from the catalog; nothing runs any more.</summary>
    Invalid,
}
