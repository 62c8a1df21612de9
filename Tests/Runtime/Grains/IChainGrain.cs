using Conduit.Runtime;

namespace Conduit.Tests.Runtime.Grains;

/// <summary>Grains that call each other, for call-chain tests.</summary>
public interface IChainGrain : IGrainWithStringKey
{
    /// <summary>Calls <paramref name="other"/>, which calls this grain back.</summary>
    Task<string> CallViaOther(string other);

    /// <summary>Calls <paramref name="caller"/>.Ping().</summary>
    Task<string> CallBack(string caller);

    /// <summary>Calls the reentrant grain <paramref name="caller"/>.Ping().</summary>
    Task<string> CallBackReentrant(string caller);

    Task<string> Ping();
}

public sealed class ChainGrain : Grain, IChainGrain
{
    public Task<string> CallViaOther(string other) => GrainFactory.GetGrain<IChainGrain>(other).CallBack(GetPrimaryKeyString());

    public Task<string> CallBack(string caller) => GrainFactory.GetGrain<IChainGrain>(caller).Ping();

    public Task<string> CallBackReentrant(string caller) => GrainFactory.GetGrain<IReentrantChainGrain>(caller).Ping();

    public Task<string> Ping() => Task.FromResult($"pong from {GetPrimaryKeyString()}");
}

public interface IReentrantChainGrain : IGrainWithStringKey
{
    Task<string> CallViaOther(string other);

    Task<string> Ping();
}

[Reentrant]
public sealed class ReentrantChainGrain : Grain, IReentrantChainGrain
{
    public Task<string> CallViaOther(string other) => GrainFactory.GetGrain<IChainGrain>(other).CallBackReentrant(GetPrimaryKeyString());

    public Task<string> Ping() => Task.FromResult("reentrant pong");
}
