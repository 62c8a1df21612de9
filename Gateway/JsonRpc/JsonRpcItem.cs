namespace Conduit.Gateway.JsonRpc;

/// <summary>
/// One element of a client frame: either a valid JSON-RPC message to forward (<see cref="Message"/> set) or
/// the error response the gateway answers in its place (<see cref="ErrorResponse"/> set).
/// </summary>
/// <param name="Message">The message's JSON text, as the client sent it.</param>
/// <param name="IdJson">The raw JSON of its id ("null" when absent or unreadable).</param>
/// <param name="IsNotification">True when the message has no id member (no response is due).</param>
/// <param name="ErrorResponse">The gateway's error response for an invalid element.</param>
internal readonly record struct JsonRpcItem(string? Message, string IdJson, bool IsNotification, string? ErrorResponse)
{
    public static JsonRpcItem Valid(string message, string idJson, bool isNotification) => new(message, idJson, isNotification, null);

    public static JsonRpcItem Invalid(string errorResponse) => new(null, "null", false, errorResponse);
}
