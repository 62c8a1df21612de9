using Conduit.Runtime.Activations;
using Conduit.Runtime.Observers;

namespace Conduit.Runtime.Messaging;

/// <summary>The single-process router: grains go to the local catalog, observers to the local registry.</summary>
internal sealed class LocalMessageRouter(SiloRuntime runtime, ObserverRegistry observers) : IMessageRouter
{
    public void Send(Message message)
    {
        if (message.Target.Type == ObserverRegistry.ObserverGrainType)
        {
            observers.Dispatch(message);
        }
        else
        {
            runtime.Catalog.Dispatch(message);
        }
    }
}
