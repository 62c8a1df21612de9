using Conduit.Grains.Agents;

namespace Conduit.Tests.Pools;

public sealed class DedupCacheTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Forwards <paramref name="id"/> and has it answered at once.</summary>
    private static void Answer(DedupCache cache, string id, DateTimeOffset at, string? response = "{}", bool cacheable = true)
    {
        var result = new ForwardResult(response, cacheable);
        cache.Completed(cache.Add(id, at), result, at);
    }

    private static async Task<string?> Cached(DedupCache cache, string id, DateTimeOffset at)
    {
        Assert.True(cache.TryGet(id, at, out var response), $"id {id} should be remembered");
        Assert.True(response.IsCompleted);
        return await response;
    }

    [Fact]
    public void Add_BeyondMaxEntries_ForgetsOldestAnsweredFirst()
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = 3 });
        for (var i = 1; i <= 5; i++)
        {
            Answer(cache, i.ToString(), T0);
        }

        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet("1", T0, out _));
        Assert.False(cache.TryGet("2", T0, out _));
        Assert.True(cache.TryGet("3", T0, out _));
        Assert.True(cache.TryGet("5", T0, out _));
    }

    [Fact]
    public async Task Add_InFlight_NeverForgottenBeforeItsAnswer_AndADuplicateJoinsIt()
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = 1 });
        var slow = cache.Add("slow", T0);

        // The bound makes room by forgetting answered ids only: the one in flight stays.
        Answer(cache, "fast", T0);
        Assert.Equal(1, cache.Count);
        Assert.False(cache.TryGet("fast", T0, out _));

        Assert.True(cache.TryGet("slow", T0, out var joined));
        Assert.False(joined.IsCompleted);
        cache.Completed(slow, new ForwardResult("""{"late":1}""", true), T0);
        Assert.Equal("""{"late":1}""", await joined);
        Assert.Equal("""{"late":1}""", await Cached(cache, "slow", T0));
        Answer(cache, "third", T0);
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet("third", T0, out _));
        Assert.False(cache.TryGet("slow", T0, out _));
    }

    [Fact]
    public async Task Completed_Answered_KeepsTheResponseAndLetsTheRequestGo()
    {
        var cache = new DedupCache(new AgentOptions());
        var request = AddAnswered(cache, "kept");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // The request's entry (with what a duplicate waited on) is collectable; the answer is still served.
        Assert.False(request.IsAlive);
        Assert.Equal("""{"id":"kept"}""", await Cached(cache, "kept", T0));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference AddAnswered(DedupCache cache, string id)
    {
        var entry = cache.Add(id, T0);
        Assert.True(cache.TryGet(id, T0, out _)); // a duplicate joined it while in flight
        cache.Completed(entry, new ForwardResult($$"""{"id":"{{id}}"}""", true), T0);
        return new WeakReference(entry);
    }

    [Fact]
    public void Trim_AfterWindow_ForgetsAndTryGetMissesAtTheEdge()
    {
        var cache = new DedupCache(new AgentOptions { DedupWindow = TimeSpan.FromSeconds(300) });
        Answer(cache, "a", T0);
        Answer(cache, "b", T0.AddSeconds(100));

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
        Answer(cache, "error", T0, cacheable: false);
        Answer(cache, "kept", T0);

        cache.Trim(T0.AddSeconds(299));
        Assert.Equal(1, cache.Count);
        Assert.False(cache.IsEmpty);

        cache.Trim(T0.AddSeconds(300));
        Assert.Equal(0, cache.Count);
        Assert.True(cache.IsEmpty);

        Answer(cache, "again", T0.AddSeconds(400));
        Assert.True(cache.TryGet("again", T0.AddSeconds(400), out _));
        Assert.False(cache.TryGet("kept", T0.AddSeconds(400), out _));
    }

    [Fact]
    public async Task Failed_ForgetsTheId_AndTheDuplicatesWaitingGetTheException()
    {
        var cache = new DedupCache(new AgentOptions());
        var entry = cache.Add("retry-me", T0);
        Assert.True(cache.TryGet("retry-me", T0, out var joined));

        cache.Failed(entry, new TimeoutException("pool unreachable"), T0);

        var thrown = await Assert.ThrowsAsync<TimeoutException>(async () => await joined);
        Assert.Equal("pool unreachable", thrown.Message);
        Assert.False(cache.TryGet("retry-me", T0, out _)); // the client's retry is forwarded again
        Assert.True(cache.IsEmpty);
    }

    [Fact]
    public async Task Answered_BeyondMaxBytes_ForgetsOldestFirst_AndAResponseLargerThanTheBudgetIsNotKept()
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxBytes = 1_000 });
        var response = new string('x', 299); // with a one-byte id, 300 bytes a record
        for (var i = 1; i <= 5; i++)
        {
            Answer(cache, i.ToString(), T0, response);
        }

        Assert.Equal(3, cache.Count); // a fourth record would make 1,200 bytes
        Assert.False(cache.TryGet("2", T0, out _));
        Assert.Equal(response, await Cached(cache, "3", T0));
        Assert.Equal(response, await Cached(cache, "5", T0));

        // Within DedupMaxResponseBytes (64 KiB) but above the agent's whole budget: not kept, and nothing is forgotten for it.
        Answer(cache, "big", T0, new string('y', 1_000));
        Assert.False(cache.TryGet("big", T0, out _));
        Assert.Equal(3, cache.Count);
        Assert.True(cache.TryGet("3", T0, out _));
    }

    [Fact]
    public void Completed_NotCacheableOrTooLarge_Forgotten()
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxResponseBytes = 10 });
        Answer(cache, "error", T0, "{}", cacheable: false);
        Answer(cache, "big", T0, new string('x', 11));
        Answer(cache, "multi", T0, "ééééé\""); // 6 chars, 11 UTF-8 bytes
        Answer(cache, "fits", T0, "éééé\"x"); // 6 chars, 10 UTF-8 bytes

        Assert.False(cache.TryGet("error", T0, out _));
        Assert.False(cache.TryGet("big", T0, out _));
        Assert.False(cache.TryGet("multi", T0, out _));
        Assert.True(cache.TryGet("fits", T0, out _));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public async Task Completed_IdReusedLater_KeepsTheNewerEntry()
    {
        var cache = new DedupCache(new AgentOptions());
        var first = cache.Add("same", T0);
        Assert.True(cache.TryGet("same", T0, out var joinedFirst));
        var second = cache.Add("same", T0.AddSeconds(301));

        cache.Completed(first, new ForwardResult("""{"first":1}""", true), T0.AddSeconds(301));
        Assert.Equal("""{"first":1}""", await joinedFirst); // a duplicate of the first request gets the first answer
        Assert.True(cache.TryGet("same", T0.AddSeconds(301), out var joined));
        Assert.False(joined.IsCompleted); // the newer request's, still in flight

        cache.Completed(second, new ForwardResult("""{"second":2}""", true), T0.AddSeconds(301));
        Assert.Equal("""{"second":2}""", await joined);
        Assert.Equal("""{"second":2}""", await Cached(cache, "same", T0.AddSeconds(301)));
    }

    [Fact]
    public async Task Answered_IdRememberedAgainAfterTheWindow_TheNewerAnswerKeptWhenTheOlderGoes()
    {
        var cache = new DedupCache(new AgentOptions());
        var slow = cache.Add("same", T0);
        Answer(cache, "quick", T0.AddSeconds(1));
        cache.Completed(slow, new ForwardResult("""{"old":1}""", true), T0.AddSeconds(5)); // answered after "quick"

        // Past the window the old answer is not served; it is still held, behind "quick", when the id is answered again.
        var later = T0.AddSeconds(300.5);
        Assert.False(cache.TryGet("same", later, out _));
        Answer(cache, "same", later, """{"new":2}""");
        Assert.Equal(3, cache.Count);
        Assert.Equal("""{"new":2}""", await Cached(cache, "same", later)); // the newer record, not the older one still held

        cache.Trim(T0.AddSeconds(301.5)); // "quick" and the old answer go; the new one stays
        Assert.Equal(1, cache.Count);
        Assert.Equal("""{"new":2}""", await Cached(cache, "same", T0.AddSeconds(302)));
    }

    [Fact]
    public async Task Answered_ManyIdsThroughManyChunks_EachServesItsOwnResponse()
    {
        // Ids of every shape, responses from empty to larger than a chunk, and a null response; far more ids than the
        // bound, so that chunks are filled, let go and made again many times over.
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = 50 });
        string? Response(int i) => i % 97 == 0 ? null : i % 13 == 0 ? new string('é', 20_000 + i) : $$"""{"jsonrpc":"2.0","id":{{i}},"result":"{{new string('x', i % 40)}}"}""";
        string Id(int i) => i % 3 == 0 ? i.ToString() : $"\"agent-ü-{i}\"";
        for (var i = 0; i < 5_000; i++)
        {
            Answer(cache, Id(i), T0, Response(i));
        }

        Assert.Equal(50, cache.Count);
        for (var i = 4_950; i < 5_000; i++)
        {
            Assert.Equal(Response(i), await Cached(cache, Id(i), T0));
        }

        Assert.False(cache.TryGet(Id(4_949), T0, out _));
        Assert.False(cache.TryGet(Id(0), T0, out _));
    }

    [Fact]
    public void AnsweredIds_SteadyState_ReusesTheChunksItLetsGo()
    {
        // A full window turns over its chunks every so many ids; the chunk let go is the next one's memory, so a busy
        // agent's window allocates nothing per request once it is full.
        var answered = new AnsweredIds();
        var ids = Enumerable.Range(0, 20_000).Select(i => i.ToString()).ToArray();
        var response = $$"""{"jsonrpc":"2.0","id":1,"result":"{{new string('x', 40)}}"}""";
        void Answer(int i)
        {
            Assert.True(answered.TryAdd(ids[i], response, i, 64 * 1024, 1024 * 1024));
            if (answered.Count > 1_000)
            {
                answered.RemoveOldest();
            }
        }

        for (var i = 0; i < 10_000; i++)
        {
            Answer(i); // fills the window and grows every array to its steady size
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 10_000; i < 20_000; i++)
        {
            Answer(i);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1_024, $"10,000 answers in a full window allocated {allocated:N0} bytes"); // a new 16 KiB chunk per ~200 answers before
        Assert.True(answered.TryGet(ids[19_999], 0, out var last));
        Assert.Equal(response, last);
        Assert.False(answered.TryGet(ids[18_999], 0, out _));
    }

    [Theory]
    [InlineData(1, 64, 300)]
    [InlineData(2, 1_000, 5_000)]
    [InlineData(3, 7, 20)]
    public async Task Answered_RandomIdsRepeatedAndForgotten_AgreeWithASimpleModel(int seed, int maxEntries, int distinctIds)
    {
        // The answered ids' index keeps the slots of forgotten ids until it is rebuilt, and ids come back while older
        // records of theirs are still held: a long random run, checked step by step against a list of records.
        var window = TimeSpan.FromSeconds(300);
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = maxEntries, DedupWindow = window });
        var model = new List<(string Id, string Response, DateTimeOffset SeenAt)>(); // oldest first, as answered
        var random = new Random(seed);
        var now = T0;
        for (var step = 0; step < 20_000; step++)
        {
            now += random.Next(50) == 0 ? TimeSpan.FromSeconds(random.Next(100, 400)) : TimeSpan.FromMilliseconds(random.Next(2_000));
            var id = random.Next(2) == 0 ? random.Next(distinctIds).ToString() : $"\"s-{random.Next(distinctIds)}\"";
            var newest = model.FindLastIndex(r => r.Id == id);
            var expected = newest >= 0 && model[newest].SeenAt > now - window ? model[newest].Response : null;
            if (cache.TryGet(id, now, out var cached))
            {
                Assert.True(expected is not null, $"step {step}: id {id} was served, but the model forgot it");
                Assert.Equal(expected, await cached);
                continue;
            }

            Assert.True(expected is null, $"step {step}: id {id} was not served, but the model holds {expected}");
            var response = $$"""{"step":{{step}}}""";
            Answer(cache, id, now, response);
            model.Add((id, response, now));
            model.RemoveAll(r => r.SeenAt <= now - window);
            if (model.Count > maxEntries)
            {
                model.RemoveRange(0, model.Count - maxEntries);
            }

            Assert.Equal(model.Count, cache.Count);
        }
    }

    [Theory]
    [InlineData(0, 300)]
    [InlineData(1000, 0)]
    public void Add_Disabled_RemembersNothing(int maxEntries, int windowSeconds)
    {
        var cache = new DedupCache(new AgentOptions { DedupMaxEntries = maxEntries, DedupWindow = TimeSpan.FromSeconds(windowSeconds) });
        Answer(cache, "a", T0);
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGet("a", T0, out _));
        Assert.True(cache.IsEmpty);
    }

    [Fact]
    public void Validator_NegativeValues_EachNamed()
    {
        var result = new AgentOptionsValidator().Validate(null, new AgentOptions { DedupWindow = TimeSpan.FromSeconds(-1), DedupMaxEntries = -1, DedupMaxResponseBytes = -1, DedupMaxBytes = -1 });
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(4, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Agents:DedupMaxBytes -1", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Agents:DedupWindow", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Agents:DedupMaxEntries -1", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Agents:DedupMaxResponseBytes -1", StringComparison.Ordinal));
    }
}
