namespace Conduit.Runtime.State;

/// <summary>A persistent state the activation reads before OnActivateAsync.</summary>
internal interface IStateLoader
{
    /// <summary>Reads the stored state.</summary>
    Task ReadStateAsync(CancellationToken cancellationToken);
}
