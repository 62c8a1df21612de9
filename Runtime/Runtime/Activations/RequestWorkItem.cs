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

    /// <inheritdoc />
    public override async Task RunTurnAsync(ActivationData activation)
    {
        try
        {
            RequestContext.Enter(activation, message.CallChain);
            object? result = null;
            try
            {
                // The method's task is awaited here, not through GrainMethod.InvokeAsync: one state machine per call.
                if (message.Method.Invoke(activation.Instance!, message.Arguments) is Task task)
                {
                    await task;
                    result = message.Method.ResultOf(task);
                }
            }
            catch (Exception exception)
            {
                message.Reply(null, exception);
                return;
            }

            message.Reply(result, null);
        }
        catch (Exception exception)
        {
            activation.ReportTurnFailed(this, exception);
        }
        finally
        {
            activation.OnTurnCompleted(this);
        }
    }

    public override void Reject(Exception exception) => message.Reply(null, exception);

    public override string ToString() => message.ToString();
}
