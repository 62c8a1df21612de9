namespace Conduit.Tests.Infrastructure;

/// <summary>One JSON-RPC message an <see cref="UpstreamServer"/> received.</summary>
/// <param name="Socket">The number of the socket it came on (1 for the first accepted socket).</param>
/// <param name="Method">The method name.</param>
/// <param name="IdJson">The id as raw JSON (<c>7</c>, <c>"a"</c>), or null for a notification.</param>
public sealed record UpstreamRequest(int Socket, string Method, string? IdJson)
{
    /// <summary>The position of the frame it came in among its socket's frames (0 for the first): the wire order, which
    /// the order of recording is not (messages are handled concurrently).</summary>
    public long Arrival { get; init; }

    /// <summary>Whether the message was a notification (no id).</summary>
    public bool IsNotification => IdJson is null;
}
