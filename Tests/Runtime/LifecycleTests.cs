using Conduit.Runtime;
using Conduit.Runtime.Hosting;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conduit.Tests.Runtime;

/// <summary>Activation lifecycle driven by a fake clock: idle collection, timers, response timeout, shutdown.</summary>
public sealed class LifecycleTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TestProbe _probe = new();
    private readonly FakeTimeProvider _clock = new();
    private TestSiloHost _silo = null!;

    public async Task InitializeAsync()
        => _silo = await TestSiloHost.StartAsync(
            s => s.AddSingleton(_probe).AddSingleton<TimeProvider>(_clock),
            settings: new Dictionary<string, string?>
            {
                ["Silo:ResponseTimeout"] = "00:00:05",
                ["Silo:CollectionQuantum"] = "00:01:00",
            });

    public async Task DisposeAsync()
    {
        _probe.Gate.TrySetResult();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task IdleActivation_IsCollectedAfterItsAge_NotBefore()
    {
        var grain = _silo.GrainFactory.GetGrain<ILifecycleGrain>("idle");
        var firstActivation = await grain.GetActivationId();

        _clock.Advance(TimeSpan.FromMinutes(1)); // LifecycleGrain's age is 2 minutes
        await Task.Delay(50);
        Assert.Empty(_probe.Deactivations);

        _clock.Advance(TimeSpan.FromMinutes(2));
        await WaitUntil(() => _probe.Deactivations.Count == 1);
        Assert.Equal(DeactivationReasonCode.ActivationIdle, _probe.Deactivations.Single().Reason);

        // The next call activates the grain again, as a new activation.
        Assert.NotEqual(firstActivation, await grain.GetActivationId());
        Assert.Equal(2, _probe.Activations.Count);
    }

    [Fact]
    public async Task UsedActivation_IsNotCollected()
    {
        var grain = _silo.GrainFactory.GetGrain<ILifecycleGrain>("busy");
        for (var i = 0; i < 5; i++)
        {
            await grain.GetActivationId();
            _clock.Advance(TimeSpan.FromMinutes(1));
        }

        await Task.Delay(50);
        Assert.Empty(_probe.Deactivations);
    }

    [Fact]
    public async Task DelayDeactivation_KeepsAnIdleActivation_UntilItRunsOutOrIsCancelled()
    {
        var finite = _silo.GrainFactory.GetGrain<ILifecycleGrain>("delayed");
        await finite.DelayDeactivationFor(TimeSpan.FromMinutes(5)); // past the 2 minutes of the grain's age
        var forGood = _silo.GrainFactory.GetGrain<ILifecycleGrain>("kept");
        await forGood.DelayDeactivationFor(TimeSpan.MaxValue);

        _clock.Advance(TimeSpan.FromMinutes(4));
        await Task.Delay(50);
        Assert.Empty(_probe.Deactivations);

        _clock.Advance(TimeSpan.FromMinutes(2));
        await WaitUntil(() => _probe.Deactivations.Count == 1);
        Assert.Equal("lifecycle/delayed", _probe.Deactivations.Single().Grain.ToString());

        _clock.Advance(TimeSpan.FromHours(6)); // 180 collection ages; not days: every 500 ms of fake time runs the call-timeout sweep
        await Task.Delay(50);
        Assert.Single(_probe.Deactivations);

        // A negative span cancels the delay: the grain's age applies again, counted from that call.
        await forGood.DelayDeactivationFor(TimeSpan.FromSeconds(-1));
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(50);
        Assert.Single(_probe.Deactivations);
        _clock.Advance(TimeSpan.FromMinutes(2));
        await WaitUntil(() => _probe.Deactivations.Count == 2);
    }

    [Fact]
    public async Task Call_PastResponseTimeout_FailsWithTimeoutException()
    {
        var grain = _silo.GrainFactory.GetGrain<IGateGrain>("slow");
        var call = grain.WaitAtGate("never");
        await WaitUntil(() => _probe.Events.Contains("start never"));

        _clock.Advance(TimeSpan.FromSeconds(4));
        await Task.Delay(50);
        Assert.False(call.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => call.WaitAsync(Wait));
        Assert.Contains("gate/slow", error.Message);
    }

    [Fact]
    public async Task TimerTicks_NeverOverlap_AndStopAtDeactivation()
    {
        var grain = _silo.GrainFactory.GetGrain<ITimerGrain>("t");
        var armedBefore = _clock.ArmedTimers;
        await grain.StartTimer(TimeSpan.FromSeconds(1));

        // The first tick blocks on the gate; ten more periods pass without a second tick starting.
        _clock.Advance(TimeSpan.FromSeconds(1));
        await WaitUntil(() => _probe.TickCount == 1);
        for (var i = 0; i < 10; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        await Task.Delay(50);
        Assert.Equal(1, _probe.TickCount);

        // Once the tick ends, the next one comes one period later.
        _probe.Gate.SetResult();
        await WaitUntil(() => _probe.TicksRunning == 0);
        await WaitUntil(() => _clock.ArmedTimers > armedBefore);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await WaitUntil(() => _probe.TickCount == 2);
        Assert.Equal(1, _probe.MaxTicksRunning);

        await grain.Deactivate();
        await WaitUntil(() => _probe.Deactivations.Count == 1);
        var ticks = _probe.TickCount;
        for (var i = 0; i < 5; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        await Task.Delay(50);
        Assert.Equal(ticks, _probe.TickCount);
        Assert.Equal(armedBefore, _clock.ArmedTimers);
    }

    [Fact]
    public async Task Shutdown_RunsOnDeactivateOfEveryActivation()
    {
        var grains = Enumerable.Range(0, 50).Select(i => _silo.GrainFactory.GetGrain<ILifecycleGrain>($"s{i}")).ToList();
        await Task.WhenAll(grains.Select(g => g.GetActivationId()));

        await _silo.StopAsync().WaitAsync(Wait);

        Assert.Equal(50, _probe.Deactivations.Count);
        Assert.All(_probe.Deactivations, d => Assert.Equal(DeactivationReasonCode.ShuttingDown, d.Reason));
        Assert.Equal(
            grains.Select(g => g.GetGrainId().ToString()).Order(),
            _probe.Deactivations.Select(d => d.Grain.ToString()).Order());
    }

    [Fact]
    public async Task Shutdown_WhileAnActivationIsStarting_IsNotCancelledByTheCallThatWaitedForIt()
    {
        // A connection grain that the pool opened just before a shutdown: its activation was still running when the
        // silo asked every activation to go, and the Open call that waited for it then ran and kept it alive for good
        // (DelayDeactivation), so the shutdown waited for it until its 30 s timeout.
        var grain = _silo.GrainFactory.GetGrain<ISlowStartGrain>("late");
        var call = grain.KeepAliveForGood();
        await WaitUntil(() => _probe.Events.Contains($"activating {grain.GetGrainId()}"));

        var stopping = _silo.StopAsync();
        var other = _silo.GrainFactory.GetGrain<ILifecycleGrain>("refused");
        await RefusedAsync(other); // shutdown began: it asks every activation to go right after it refuses calls
        await Task.Delay(100);
        _probe.Gate.TrySetResult();

        await stopping.WaitAsync(Wait);
        Assert.Contains((grain.GetGrainId(), DeactivationReasonCode.ShuttingDown), _probe.Deactivations);
        await Assert.ThrowsAsync<SiloUnavailableException>(() => call.WaitAsync(Wait)); // it never ran: the silo was going
    }

    private static async Task RefusedAsync(ILifecycleGrain grain)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await grain.GetActivationId();
            }
            catch (SiloUnavailableException)
            {
                return;
            }

            await Task.Delay(5);
        }

        Assert.Fail("the silo kept taking calls");
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
}

/// <summary>What a silo says when its shutdown runs out of time.</summary>
public sealed class ShutdownTimeoutTests
{
    [Fact]
    public async Task Stop_ActivationBusyPastShutdownTimeout_StopsAnywayAndTheWarningNamesIt()
    {
        var probe = new TestProbe();
        var log = new CapturedLog();
        var silo = await TestSiloHost.StartAsync(
            s => s.AddSingleton(probe).AddSingleton<ILoggerProvider>(log),
            settings: new Dictionary<string, string?> { ["Silo:ShutdownTimeout"] = "00:00:01" });
        try
        {
            var busy = silo.GrainFactory.GetGrain<IGateGrain>("held").WaitAtGate("turn");
            await Eventually.TrueAsync(() => probe.Events.Contains("start turn"));

            // The turn never ends while the silo stops: the stop gives up after its timeout and says what it left.
            await silo.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Contains(log.Lines, l => l.Contains("Shutdown timed out with 1 activations not yet deactivated: gate x1 (held)", StringComparison.Ordinal));
            Assert.False(busy.IsCompleted);
        }
        finally
        {
            probe.Gate.TrySetResult();
            await silo.DisposeAsync();
        }
    }
}

/// <summary>Start-up validation of <see cref="SiloOptions"/>.</summary>
public sealed class SiloOptionsValidatorTests
{
    [Fact]
    public async Task Start_WithBadOptions_FailsNamingEveryBadValue()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestSiloHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Silo:ResponseTimeout"] = "00:00:00",
            ["Silo:ShutdownTimeout"] = "01:00:00",
        }));

        Assert.Contains("Silo:ResponseTimeout is 00:00:00", error.Message);
        Assert.Contains("Silo:ShutdownTimeout is 01:00:00", error.Message);
    }

    [Fact]
    public void Defaults_AreThoseOfTheDesign()
    {
        var options = new SiloOptions();
        Assert.Equal(TimeSpan.FromSeconds(30), options.ResponseTimeout);
        Assert.Equal(TimeSpan.FromMinutes(15), options.CollectionAge);
        Assert.Equal(TimeSpan.FromMinutes(1), options.CollectionQuantum);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ShutdownTimeout);
    }
}
