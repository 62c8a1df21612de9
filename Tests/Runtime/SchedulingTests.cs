using Conduit.Runtime;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Runtime;

/// <summary>Turn-based scheduling: non-reentrancy, reentrancy, interleaving attributes, deadlock detection.</summary>
public sealed class SchedulingTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TestProbe _probe = new();
    private TestSiloHost _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSiloHost.StartAsync(s => s.AddSingleton(_probe));

    public async Task DisposeAsync()
    {
        _probe.Gate.TrySetResult();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task NonReentrantGrain_1000ConcurrentCalls_ExactResultsAndNoOverlap()
    {
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>("c1");

        var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => Task.Run(() => grain.Increment()))).WaitAsync(Wait);

        Assert.Equal(Enumerable.Range(1, 1000), results.Order());
        Assert.Equal(1000, await grain.Get());
        Assert.Equal(0, await grain.GetOverlaps());
    }

    [Fact]
    public async Task NonReentrantGrain_SecondCall_WaitsForFirstAcrossAwaits()
    {
        var grain = _silo.GrainFactory.GetGrain<IGateGrain>("g1");

        var first = grain.WaitAtGate("a");
        var second = grain.WaitAtGate("b");
        await WaitUntil(() => _probe.Events.Contains("start a"));
        await Task.Delay(100); // give a wrong scheduler the chance to start "b"
        Assert.DoesNotContain("start b", _probe.Events);

        _probe.Gate.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Wait);
        Assert.Equal(["start a", "end a", "start b", "end b"], _probe.Events.ToArray());
    }

    [Fact]
    public async Task ReentrantGrain_CallsInterleaveAtAwaits()
    {
        var grain = _silo.GrainFactory.GetGrain<IReentrantGateGrain>("r1");

        var first = grain.WaitAtGate("a");
        var second = grain.WaitAtGate("b");

        // Both start while neither has finished: only a reentrant grain allows that.
        await WaitUntil(() => _probe.Events.Contains("start a") && _probe.Events.Contains("start b"));
        Assert.DoesNotContain(_probe.Events, e => e.StartsWith("end", StringComparison.Ordinal));
        _probe.Gate.SetResult();
        Assert.Equal(["a", "b"], await Task.WhenAll(first, second).WaitAsync(Wait));
    }

    [Fact]
    public async Task ReadOnlyCalls_InterleaveWithEachOther()
    {
        var grain = _silo.GrainFactory.GetGrain<IGateGrain>("ro");

        var first = grain.ReadAtGate("a");
        var second = grain.ReadAtGate("b");

        await WaitUntil(() => _probe.Events.Contains("start a") && _probe.Events.Contains("start b"));
        _probe.Gate.SetResult();
        await Task.WhenAll(first, second).WaitAsync(Wait);
    }

    [Fact]
    public async Task AlwaysInterleave_RunsWhileGrainIsBusy()
    {
        var grain = _silo.GrainFactory.GetGrain<IGateGrain>("ai");
        var busy = grain.WaitAtGate("busy");
        await WaitUntil(() => _probe.Events.Contains("start busy"));

        Assert.Equal("x", await grain.Interleaved("x").WaitAsync(Wait));
        Assert.False(busy.IsCompleted);
        _probe.Gate.SetResult();
        await busy.WaitAsync(Wait);
    }

    [Fact]
    public async Task OneWay_ReturnsAtOnce_WhileTheGrainStillRuns()
    {
        var grain = _silo.GrainFactory.GetGrain<IGateGrain>("ow");

        await grain.FireAndForget("fire").WaitAsync(Wait);

        await WaitUntil(() => _probe.Events.Contains("start fire"));
        Assert.DoesNotContain("end fire", _probe.Events);
        _probe.Gate.SetResult();
        await WaitUntil(() => _probe.Events.Contains("end fire"));
    }

    [Fact]
    public Task CallCycle_AtoBtoA_FailsAtOnceWithDeadlockException()
        => AssertDeadlockAtOnceAsync("a", a => a.CallViaOther("b"));

    [Fact]
    public async Task CallCycle_ThroughReentrantGrain_Succeeds()
    {
        var a = _silo.GrainFactory.GetGrain<IReentrantChainGrain>("ra");

        Assert.Equal("reentrant pong", await a.CallViaOther("b2").WaitAsync(Wait));
    }

    [Fact]
    public Task CallCycle_BackToNonReentrantGrainThroughReentrantGrain_FailsAtOnceWithDeadlockException()
        => AssertDeadlockAtOnceAsync("a3", a => a.CallViaReentrant("r3"));

    [Fact]
    public async Task OutgoingChain_AnActiveReentrantGrainAddsNoLink_ButPassesOnTheChainItWasCalledIn()
    {
        // A reentrant grain accepts every call once active, so its link would never detect a deadlock; leaving it out
        // spares its callees a chain (and an execution context captured at each of their awaits).
        Assert.Equal("chain/a4", await _silo.GrainFactory.GetGrain<IChainGrain>("a4").OutgoingChain().WaitAsync(Wait));
        Assert.Null(await _silo.GrainFactory.GetGrain<IReentrantChainGrain>("r4").OutgoingChain().WaitAsync(Wait));
        Assert.Equal("chain/a4", await _silo.GrainFactory.GetGrain<IChainGrain>("a4").ChainOfCallsFrom("r4").WaitAsync(Wait));

        // While activating it does not accept calls yet, so a call back to it would wait on itself: it adds its link.
        Assert.Equal("reentrantchain/r4", await _silo.GrainFactory.GetGrain<IReentrantChainGrain>("r4").ChainWhileActivating().WaitAsync(Wait));
    }

    [Fact]
    public async Task GrainException_ReachesCallerWithTypeMessageAndGrainStack()
    {
        var grain = _silo.GrainFactory.GetGrain<ICounterGrain>("thrower");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Fail("boom 42").WaitAsync(Wait));

        Assert.Equal("boom 42", error.Message);
        Assert.Contains(nameof(CounterGrain.Fail), error.StackTrace);
        Assert.Equal(0, await grain.Get()); // the activation survives its method's exception
    }

    [Fact]
    public void GetGrain_NullKey_Throws_ButCreatesNothing()
    {
        Assert.Throws<ArgumentNullException>(() => _silo.GrainFactory.GetGrain<ICounterGrain>(null!));
        var reference = _silo.GrainFactory.GetGrain<ICounterGrain>("never-called");
        Assert.Equal(new GrainId("counter", "never-called"), reference.GetGrainId());
        Assert.Equal(reference, _silo.GrainFactory.GetGrain<ICounterGrain>("never-called"));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(5);
        }
    }

    /// <summary>A call cycle started at non-reentrant grain <paramref name="key"/> fails at once, naming it, and the grain is usable afterwards.</summary>
    private async Task AssertDeadlockAtOnceAsync(string key, Func<IChainGrain, Task<string>> cycle)
    {
        var a = _silo.GrainFactory.GetGrain<IChainGrain>(key);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeadlockException>(() => cycle(a).WaitAsync(Wait));

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        Assert.Contains("chain/" + key, error.Message);
        Assert.Equal("pong from " + key, await a.Ping().WaitAsync(Wait));
    }
}
