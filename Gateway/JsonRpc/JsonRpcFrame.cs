namespace Conduit.Gateway.JsonRpc;

/// <summary>A parsed client frame: a single message or a batch, each element valid or already answered.</summary>
/// <param name="IsBatch">Whether the frame was a JSON array (answers are re-assembled into one array).</param>
/// <param name="Items">The elements, in order.</param>
internal sealed record JsonRpcFrame(bool IsBatch, JsonRpcItem[] Items);
