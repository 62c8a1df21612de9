using Conduit.Runtime;
using Conduit.Runtime.Activations;

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

    /// <summary>Calls the reentrant grain <paramref name="reentrant"/>, which calls this grain back.</summary>
    Task<string> CallViaReentrant(string reentrant);

    /// <summary>The chain the reentrant grain <paramref name="reentrant"/> gives its own calls when called from here.</summary>
    Task<string?> ChainOfCallsFrom(string reentrant);

    /// <summary>The chain this grain's calls carry now.</summary>
    Task<string?> OutgoingChain();

    Task<string> Ping();
}

public sealed class ChainGrain : Grain, IChainGrain
{
    public Task<string> CallViaOther(string other) => GrainFactory.GetGrain<IChainGrain>(other).CallBack(GetPrimaryKeyString());

    public Task<string> CallBack(string caller) => GrainFactory.GetGrain<IChainGrain>(caller).Ping();

    public Task<string> CallBackReentrant(string caller) => GrainFactory.GetGrain<IReentrantChainGrain>(caller).Ping();

    public Task<string> CallViaReentrant(string reentrant) => GrainFactory.GetGrain<IReentrantChainGrain>(reentrant).CallBack(GetPrimaryKeyString());

    public Task<string?> ChainOfCallsFrom(string reentrant) => GrainFactory.GetGrain<IReentrantChainGrain>(reentrant).OutgoingChain();

    public Task<string?> OutgoingChain() => Task.FromResult(RequestContext.OutgoingChain()?.ToString());

    public Task<string> Ping() => Task.FromResult($"pong from {GetPrimaryKeyString()}");
}

public interface IReentrantChainGrain : IGrainWithStringKey
{
    Task<string> CallViaOther(string other);

    /// <summary>Calls the non-reentrant grain <paramref name="caller"/>.Ping().</summary>
    Task<string> CallBack(string caller);

    /// <summary>The chain this grain's calls carry now.</summary>
    Task<string?> OutgoingChain();

    /// <summary>The chain its calls carried while it was activating.</summary>
    Task<string?> ChainWhileActivating();

    Task<string> Ping();
}

[Reentrant]
public sealed class ReentrantChainGrain : Grain, IReentrantChainGrain
{
    private string? _chainWhileActivating;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _chainWhileActivating = RequestContext.OutgoingChain()?.ToString();
        return Task.CompletedTask;
    }

    public Task<string> CallViaOther(string other) => GrainFactory.GetGrain<IChainGrain>(other).CallBackReentrant(GetPrimaryKeyString());

    public Task<string> CallBack(string caller) => GrainFactory.GetGrain<IChainGrain>(caller).Ping();

    public Task<string?> OutgoingChain() => Task.FromResult(RequestContext.OutgoingChain()?.ToString());

    public Task<string?> ChainWhileActivating() => Task.FromResult(_chainWhileActivating);

    public Task<string> Ping() => Task.FromResult("reentrant pong");
}
