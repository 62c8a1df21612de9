using Conduit.Runtime;
using Conduit.Tests.Infrastructure;
using Conduit.Tests.Runtime.Grains;
using Microsoft.Extensions.DependencyInjection;

namespace Conduit.Tests.Runtime;

/// <summary>Persistent state with etags, and observers called by grains.</summary>
public sealed class StateAndObserverTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private TestSiloHost _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSiloHost.StartAsync(s => s.AddSingleton(new TestProbe()));

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task State_SurvivesReactivation()
    {
        var grain = _silo.GrainFactory.GetGrain<IStateGrain>("s1");
        await grain.Set(7, "first");
        await grain.Set(8, "second");
        var etag = await grain.GetEtag();

        await grain.Deactivate();
        var reloaded = await WaitForNewActivationState(grain, etag);

        Assert.Equal(8, reloaded.Value);
        Assert.Equal(["first", "second"], reloaded.History);
    }

    [Fact]
    public async Task Write_WithStaleEtag_IsRejected()
    {
        var grain = _silo.GrainFactory.GetGrain<IStateGrain>("s2");
        await grain.Set(1, "mine");
        var storage = _silo.Services.GetRequiredKeyedService<IGrainStorage>("Default");

        // Another writer changes the stored record behind the grain's back.
        await storage.WriteAsync("counter", grain.GetGrainId(), "{\"Value\":99}"u8.ToArray(), await grain.GetEtag(), CancellationToken.None);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Set(2, "stale").WaitAsync(Wait));
        Assert.Contains("counter", error.Message);
        var stored = await storage.ReadAsync("counter", grain.GetGrainId(), CancellationToken.None);
        Assert.Contains("99", System.Text.Encoding.UTF8.GetString(stored!.Data.Span));
    }

    [Fact]
    public async Task Clear_RemovesTheRecord()
    {
        var grain = _silo.GrainFactory.GetGrain<IStateGrain>("s3");
        await grain.Set(5, "x");
        await grain.Clear();

        var storage = _silo.Services.GetRequiredKeyedService<IGrainStorage>("Default");
        Assert.Null(await storage.ReadAsync("counter", grain.GetGrainId(), CancellationToken.None));
        Assert.Null(await grain.GetEtag());
        Assert.Equal(0, (await grain.Get()).Value);
    }

    [Fact]
    public async Task Observer_ReceivesCallsFromGrain_InOrder()
    {
        var observer = new RecordingObserver();
        var reference = _silo.GrainFactory.CreateObjectReference<IProbeObserver>(observer);
        var grain = _silo.GrainFactory.GetGrain<IObservableGrain>("o1");
        await grain.Subscribe(reference);

        var echo = await grain.Publish(100).WaitAsync(Wait);

        Assert.Equal("echo: done", echo);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"m{i}"), observer.Messages);
    }

    [Fact]
    public async Task Observer_AfterDelete_CallsFail()
    {
        var observer = new RecordingObserver();
        var reference = _silo.GrainFactory.CreateObjectReference<IProbeObserver>(observer);
        var grain = _silo.GrainFactory.GetGrain<IObservableGrain>("o2");
        await grain.Subscribe(reference);
        _silo.GrainFactory.DeleteObjectReference<IProbeObserver>(observer);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Publish(1).WaitAsync(Wait));
        Assert.Contains("no longer exists", error.Message);
    }

    private static async Task<CounterState> WaitForNewActivationState(IStateGrain grain, string? etag)
    {
        // The deactivation runs after the call returns; the next call reaches a new activation that reads the store.
        for (var i = 0; i < 200; i++)
        {
            var state = await grain.Get();
            if (await grain.GetEtag() == etag && state.Value == 8)
            {
                return state;
            }

            await Task.Delay(5);
        }

        throw new Xunit.Sdk.XunitException("state was not reloaded");
    }

    private sealed class RecordingObserver : IProbeObserver
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get { lock (_messages) { return [.. _messages]; } }
        }

        public void OnMessage(string message)
        {
            lock (_messages) { _messages.Add(message); }
        }

        public Task<string> Echo(string message) => Task.FromResult($"echo: {message}");
    }
}
