using Conduit.Runtime.Messaging;

namespace Conduit.Runtime.Activations;

/// <summary>A grain call as a turn: invokes the method and replies with its outcome.</summary>
internal sealed class RequestWorkItem(Message message) : WorkItem
{
    public Message Message => message;

    public override bool IsReadOnly => message.Method.IsReadOnly;

    public override bool IsAlwaysInterleave => message.Method.IsAlwaysInterleave;

    public override CallChain? CallChain => message.CallChain;

    public override bool MayRunInline => message.MayRunInline;

    public override async Task ExecuteAsync(ActivationData activation)
    {
        RequestContext.Current = new RequestContext(activation, message.CallChain);
        object? result;
        try
        {
            result = await message.Method.InvokeAsync(activation.Instance!, message.Arguments);
        }
        catch (Exception exception)
        {
            message.Reply(null, exception);
            return;
        }

        message.Reply(result, null);
    }

    public override void Reject(Exception exception) => message.Reply(null, exception);

    public override string ToString() => message.ToString();
}
