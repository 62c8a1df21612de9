using Conduit.Grains.Agents;

namespace Conduit.Tests.Pools;

public sealed class DedupCacheTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DedupEntry Answered(string id, DateTimeOffset at, string response = "{}")
        => new(id, Task.FromResult(new ForwardResult(response, true)), at);

    [Fact]
    public void Add_BeyondMaxEntries_ForgetsOldestAnsweredFirst()
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = 3 });
        for (var i = 1; i <= 5; i++)
        {
            cache.Add(Answered(i.ToString(), T0), T0);
        }

        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet("1", T0, out _));
        Assert.False(cache.TryGet("2", T0, out _));
        Assert.True(cache.TryGet("3", T0, out _));
        Assert.True(cache.TryGet("5", T0, out _));
    }

    [Fact]
    public async Task Add_OldestStillInFlight_KeptUntilAnswered()
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = 1 });
        var running = new TaskCompletionSource<ForwardResult>();
        cache.Add(new DedupEntry("slow", running.Task, T0), T0);
        cache.Add(Answered("fast", T0), T0);

        // A duplicate of the request in flight must still join it.
        Assert.True(cache.TryGet("slow", T0, out var joined));
        var duplicate = joined.ResponseAsync();
        Assert.False(duplicate.IsCompleted);
        Assert.Equal(2, cache.Count);

        running.SetResult(new ForwardResult("""{"late":1}""", true));
        Assert.Equal("""{"late":1}""", await duplicate);
        cache.Add(Answered("third", T0), T0);
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("third", T0, out _));
    }

    [Fact]
    public async Task Completed_Answered_KeepsTheResponseAndLetsTheRequestGo()
    {
        var cache = new DedupCache(new AgentOptions());
        var (entry, request) = AddAnswered(cache, "kept");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // The forwarding task (with the request it carried) is collectable; the answer is still served.
        Assert.False(request.IsAlive);
        Assert.True(cache.TryGet("kept", T0, out var found));
        Assert.Same(entry, found);
        var response = found.ResponseAsync();
        Assert.True(response.IsCompleted);
        Assert.Equal("""{"id":"kept"}""", await response);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (DedupEntry Entry, WeakReference Request) AddAnswered(DedupCache cache, string id)
    {
        var running = new TaskCompletionSource<ForwardResult>();
        var entry = new DedupEntry(id, running.Task, T0);
        cache.Add(entry, T0);
        running.SetResult(new ForwardResult($$"""{"id":"{{id}}"}""", true));
        cache.Completed(entry, running.Task.Result);
        return (entry, new WeakReference(running.Task));
    }

    [Fact]
    public void Trim_AfterWindow_ForgetsAndTryGetMissesAtTheEdge()
    {
        var cache = new DedupCache(new AgentOptions { DedupWindow = TimeSpan.FromSeconds(300) });
        cache.Add(Answered("a", T0), T0);
        cache.Add(Answered("b", T0.AddSeconds(100)), T0.AddSeconds(100));

        Assert.True(cache.TryGet("a", T0.AddSeconds(299), out _));
        Assert.False(cache.TryGet("a", T0.AddSeconds(300), out _));

        cache.Trim(T0.AddSeconds(350));
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("b", T0.AddSeconds(350), out _));
    }

    [Fact]
    public void Trim_EverythingLeftTheWindow_LetsItsCollectionsGo_AndRemembersAgainLater()
    {
        var cache = new DedupCache(new AgentOptions { DedupWindow = TimeSpan.FromSeconds(300) });
        Assert.True(cache.IsEmpty); // nothing is allocated before the first id
        var error = Answered("error", T0);
        cache.Add(error, T0);
        cache.Add(Answered("kept", T0), T0);
        cache.Completed(error, new ForwardResult("{}", Cacheable: false));

        cache.Trim(T0.AddSeconds(299));
        Assert.Equal(1, cache.Count);
        Assert.False(cache.IsEmpty);

        cache.Trim(T0.AddSeconds(300));
        Assert.Equal(0, cache.Count);
        Assert.True(cache.IsEmpty);

        cache.Add(Answered("again", T0.AddSeconds(400)), T0.AddSeconds(400));
        Assert.True(cache.TryGet("again", T0.AddSeconds(400), out _));
        Assert.False(cache.TryGet("kept", T0.AddSeconds(400), out _));
    }

    [Fact]
    public void Completed_NotCacheableOrTooLarge_Forgotten()
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxResponseBytes = 10 });
        var error = Answered("error", T0);
        var big = Answered("big", T0);
        var multiByte = Answered("multi", T0);
        var fits = Answered("fits", T0);
        foreach (var entry in new[] { error, big, multiByte, fits })
        {
            cache.Add(entry, T0);
        }

        cache.Completed(error, new ForwardResult("{}", Cacheable: false));
        cache.Completed(big, new ForwardResult(new string('x', 11), true));
        cache.Completed(multiByte, new ForwardResult("ééééé\"", true)); // 6 chars, 11 UTF-8 bytes
        cache.Completed(fits, new ForwardResult("éééé\"x", true)); // 6 chars, 10 UTF-8 bytes

        Assert.False(cache.TryGet("error", T0, out _));
        Assert.False(cache.TryGet("big", T0, out _));
        Assert.False(cache.TryGet("multi", T0, out _));
        Assert.True(cache.TryGet("fits", T0, out _));
    }

    [Fact]
    public void Completed_IdReusedLater_KeepsTheNewerEntry()
    {
        var cache = new DedupCache(new AgentOptions());
        var first = Answered("same", T0);
        cache.Add(first, T0);
        var second = Answered("same", T0.AddSeconds(301));
        cache.Add(second, T0.AddSeconds(301));

        cache.Completed(first, new ForwardResult("{}", Cacheable: false));

        Assert.True(cache.TryGet("same", T0.AddSeconds(301), out var kept));
        Assert.Same(second, kept);
    }

    [Theory]
    [InlineData(0, 300)]
    [InlineData(1000, 0)]
    public void Add_Disabled_RemembersNothing(int maxEntries, int windowSeconds)
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = maxEntries, DedupWindow = TimeSpan.FromSeconds(windowSeconds) });
        cache.Add(Answered("a", T0), T0);
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGet("a", T0, out _));
    }

    [Fact]
    public void Validator_NegativeValues_EachNamed()
    {
        var result = new AgentOptionsValidator().Validate(null, new AgentOptions { DedupWindow = TimeSpan.FromSeconds(-1), DedupMaxEntries = -1, DedupMaxResponseBytes = -1 });
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(3, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Agents:DedupWindow", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Agents:DedupMaxEntries -1", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Agents:DedupMaxResponseBytes -1", StringComparison.Ordinal));
    }
}
