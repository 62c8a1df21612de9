namespace Conduit.Runtime.Messaging;

/// <summary>
/// Decides where a request goes: to a local activation, a local observer, or (in a cluster) another
/// process. The single-process runtime delivers everything locally.
/// </summary>
internal interface IMessageRouter
{
    /// <summary>Delivers <paramref name="message"/>; a failure to deliver is reported through the message's reply.</summary>
    void Send(Message message);
}
