namespace Conduit.Runtime;

/// <summary>Creates references to grains and observers.</summary>
public interface IGrainFactory
{
    /// <summary>Returns a reference to the grain; never fails and creates nothing until the first call.</summary>
    TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey;

    /// <summary>Makes a local object callable by grains; keep the object alive while it is in use.</summary>
    TObserver CreateObjectReference<TObserver>(IGrainObserver obj)
        where TObserver : IGrainObserver;

    /// <summary>Stops routing calls to an object made callable by <see cref="CreateObjectReference{TObserver}"/>.</summary>
    void DeleteObjectReference<TObserver>(IGrainObserver obj)
        where TObserver : IGrainObserver;
}
