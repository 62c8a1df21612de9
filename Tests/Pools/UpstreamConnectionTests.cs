using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Conduit.Grains.Connections;
using Conduit.Grains.JsonRpc;
using Conduit.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Conduit.Tests.Pools;

public sealed class UpstreamConnectionTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Message, long Sequence)> _unsolicited = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private UpstreamServer _server = null!;
    private UpstreamConnection _connection = null!;

    public async Task InitializeAsync()
    {
        _server = await UpstreamServer.StartAsync();
        _connection = new UpstreamConnection("test", TimeProvider.System, NullLogger.Instance, (m, sequence) => _unsolicited.Enqueue((m, sequence)), r => _closed.TrySetResult(r));
        await _connection.ConnectAsync(_server.Url, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Task<UpstreamReply> SendAsync(string json, TimeSpan? timeout = null)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.True(JsonRpcEnvelope.TryParse(bytes, out var envelope));
        return _connection.SendAsync(bytes, envelope, timeout ?? TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SendAsync_ConcurrentSendersWhileOneSendsInSequence_EverythingArrivesAndItsOrderIsKept()
    {
        // Frames are written directly by the sender when the socket is free and queued otherwise; either way one
        // sender's messages must reach the upstream in the order it sent them, and none may be lost.
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var answered = 0;
            for (var i = 0; i < 300 && !stop.IsCancellationRequested; i++)
            {
                var reply = await SendAsync($$"""{"jsonrpc":"2.0","id":"w{{w}}-{{i}}","method":"echo","params":["{{new string('x', 2000)}}"]}""");
                Assert.Equal(UpstreamOutcome.Answered, reply.Outcome);
                answered++;
            }

            return answered;
        })).ToArray();

        for (var n = 0; n < 200; n++)
        {
            var sent = await SendAsync($$"""{"jsonrpc":"2.0","method":"seq.{{n}}"}""");
            Assert.Equal(UpstreamOutcome.Sent, sent.Outcome);
        }

        var answeredPerWorker = await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => _server.Received.Count(r => r.Method.StartsWith("seq.", StringComparison.Ordinal)) == 200);

        var sequence = _server.Received.Where(r => r.Method.StartsWith("seq.", StringComparison.Ordinal))
            .OrderBy(r => r.Arrival).Select(r => int.Parse(r.Method["seq.".Length..])).ToList();
        Assert.Equal(Enumerable.Range(0, 200), sequence);
        Assert.Equal(answeredPerWorker.Sum(), _server.CountOf("echo"));
        Assert.Equal(0, _connection.InFlight);
    }

    [Fact]
    public async Task SendAsync_ClientIdsCollide_EachRewrittenAndRestored()
    {
        var replies = await Task.WhenAll(
            SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo","params":["a"]}"""),
            SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo","params":["b"]}"""),
            SendAsync("""{"jsonrpc":"2.0","id":"s","method":"echo","params":["c"]}"""));

        Assert.All(replies, r => Assert.Equal(UpstreamOutcome.Answered, r.Outcome));
        using var a = JsonDocument.Parse(replies[0].Response!);
        using var b = JsonDocument.Parse(replies[1].Response!);
        using var c = JsonDocument.Parse(replies[2].Response!);
        Assert.Equal((1, "a"), (a.RootElement.GetProperty("id").GetInt32(), a.RootElement.GetProperty("result")[0].GetString()));
        Assert.Equal((1, "b"), (b.RootElement.GetProperty("id").GetInt32(), b.RootElement.GetProperty("result")[0].GetString()));
        Assert.Equal(("s", "c"), (c.RootElement.GetProperty("id").GetString(), c.RootElement.GetProperty("result")[0].GetString()));

        // The upstream saw three distinct ids, none of them the clients'.
        var ids = _server.Received.Select(r => r.IdJson).ToList();
        Assert.Equal(3, ids.Distinct().Count());
        Assert.DoesNotContain("\"s\"", ids);
    }

    [Fact]
    public async Task SendAsync_Notification_SentWithoutReply()
    {
        var reply = await SendAsync("""{"jsonrpc":"2.0","method":"echo","params":[1]}""");
        Assert.Equal(UpstreamOutcome.Sent, reply.Outcome);
        await Eventually.TrueAsync(() => _server.CountOf("echo") == 1);
        Assert.Null(_server.Received[0].IdJson);
    }

    [Fact]
    public async Task Pushes_GoToUnsolicitedCallback()
    {
        var reply = await SendAsync("""{"jsonrpc":"2.0","id":9,"method":"notify_me","params":{"count":3}}""");
        Assert.Contains("\"ok\"", reply.Response);
        await Eventually.TrueAsync(() => _unsolicited.Count == 3);
        Assert.All(_unsolicited, m => Assert.Contains("\"method\":\"notify\"", m.Message));
    }

    [Fact]
    public async Task AnswersAndPushes_NumberedInTheOrderRead_ProbesAndLateAnswersAreNot_StartSequenceStartsAgain()
    {
        var reply = await SendAsync("""{"jsonrpc":"2.0","id":9,"method":"notify_me","params":{"count":2}}""");
        await Eventually.TrueAsync(() => _unsolicited.Count == 2);
        Assert.Equal(1, reply.Sequence);
        Assert.Equal([2L, 3L], _unsolicited.Select(u => u.Sequence));

        // Neither a probe's answer nor an answer that comes after its request timed out is handed out, so neither
        // takes a number (a session would wait for it); the late answer is not taken for a push either.
        Assert.NotNull(await _connection.ProbeAsync("ping", TimeSpan.FromSeconds(5)));
        // The answer comes 1 s after the request, long after its 100 ms timeout even on a stalled machine; then the
        // test waits until it has surely come.
        _server.Faults.ReplyDelay = TimeSpan.FromSeconds(1);
        var late = await SendAsync("""{"jsonrpc":"2.0","id":"late","method":"echo"}""", TimeSpan.FromMilliseconds(100));
        Assert.Equal((UpstreamOutcome.TimedOut, 0L), (late.Outcome, late.Sequence));
        _server.Faults.ReplyDelay = TimeSpan.Zero;
        await Task.Delay(1500);
        Assert.Equal(2, _unsolicited.Count);
        Assert.Equal(4, (await SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo"}""")).Sequence);

        _connection.StartSequence();
        Assert.Equal(1, (await SendAsync("""{"jsonrpc":"2.0","id":2,"method":"echo"}""")).Sequence);
    }

    [Fact]
    public async Task UpstreamDropsMidRequest_AllInFlightFailPromptlyWith32004()
    {
        _server.Faults.ReplyDelay = TimeSpan.FromSeconds(30);
        var inFlight = Enumerable.Range(0, 10).Select(i => SendAsync($$"""{"jsonrpc":"2.0","id":{{i}},"method":"echo"}""", TimeSpan.FromSeconds(30))).ToList();
        await Eventually.TrueAsync(() => _server.CountOf("echo") == 10);

        var started = Stopwatch.GetTimestamp();
        _server.AbortAll();
        var replies = await Task.WhenAll(inFlight).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(1));
        for (var i = 0; i < replies.Length; i++)
        {
            Assert.Equal(UpstreamOutcome.Failed, replies[i].Outcome);
            using var doc = JsonDocument.Parse(replies[i].Response!);
            Assert.Equal(i, doc.RootElement.GetProperty("id").GetInt32());
            Assert.Equal(-32004, doc.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }

        await _closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        var after = await SendAsync("""{"jsonrpc":"2.0","id":99,"method":"echo"}""");
        Assert.Equal(UpstreamOutcome.NotSent, after.Outcome);
        Assert.Equal(0, _connection.InFlight);
    }

    [Fact]
    public async Task UpstreamSendsGarbage_SocketClosedAndRequestFails()
    {
        _server.Faults.SendGarbage = true;
        var reply = await SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo"}""").WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(UpstreamOutcome.Failed, reply.Outcome);
        Assert.Contains("not JSON", await _closed.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task UpstreamSendsMessageOverMaxMessageBytes_SocketClosedAndRequestFails_SmallerAnswersServed()
    {
        var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new UpstreamConnection("test", TimeProvider.System, NullLogger.Instance, (_, _) => { }, r => closed.TrySetResult(r), maxMessageBytes: 64 * 1024);
        await connection.ConnectAsync(_server.Url, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), CancellationToken.None);
        Task<UpstreamReply> EchoAsync(int id, int length)
        {
            var bytes = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{id}},"method":"echo","params":["{{new string('x', length)}}"]}""");
            Assert.True(JsonRpcEnvelope.TryParse(bytes, out var envelope));
            return connection.SendAsync(bytes, envelope, TimeSpan.FromSeconds(10));
        }

        // Answers below the limit, twice the buffer the reader keeps between messages, are served on the same socket.
        for (var i = 1; i <= 3; i++)
        {
            var fine = await EchoAsync(i, 60 * 1024).WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(UpstreamOutcome.Answered, fine.Outcome);
            Assert.Equal(60 * 1024 + 40, fine.Response!.Length, tolerance: 40);
        }

        var tooBig = await EchoAsync(9, 100 * 1024).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(UpstreamOutcome.Failed, tooBig.Outcome);
        Assert.Contains("-32004", tooBig.Response);
        Assert.Contains("larger than 65536 bytes", await closed.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(connection.IsOpen);
    }

    [Fact]
    public async Task UpstreamNeverAnswers_TimesOutWith32005()
    {
        _server.Faults.NeverAnswer = true;
        var reply = await SendAsync("""{"jsonrpc":"2.0","id":"t","method":"echo"}""", TimeSpan.FromMilliseconds(200));
        Assert.Equal(UpstreamOutcome.TimedOut, reply.Outcome);
        Assert.Contains("-32005", reply.Response);
        Assert.Contains("\"t\"", reply.Response);
        Assert.Equal(0, _connection.InFlight);
    }

    [Fact]
    public async Task SendAsync_NoAnswer_TimedOutByOneSweepPerSocket_NotBeforeTheDeadline_InfiniteWaitsForTheSocket_DisposeStopsTheSweep()
    {
        var clock = new FakeTimeProvider();
        var connection = new UpstreamConnection("test", clock, NullLogger.Instance, (_, _) => { }, _ => { });
        await connection.ConnectAsync(_server.Url, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5), CancellationToken.None);
        _server.Faults.NeverAnswer = true;
        var armedBefore = clock.ArmedTimers;

        Task<UpstreamReply> Send(string id, TimeSpan timeout)
        {
            var bytes = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":"{{id}}","method":"echo"}""");
            JsonRpcEnvelope.TryParse(bytes, out var envelope);
            return connection.SendAsync(bytes, envelope, timeout);
        }

        var slow = Send("slow", TimeSpan.FromSeconds(10));
        var forever = Send("forever", Timeout.InfiniteTimeSpan); // no deadline: ends with an answer or the socket
        var fast = Send("fast", TimeSpan.FromSeconds(1)); // a shorter timeout makes the sweep run more often
        var more = Enumerable.Range(0, 10).Select(i => Send($"more-{i}", TimeSpan.FromSeconds(10))).ToList();
        Assert.Equal(armedBefore + 1, clock.ArmedTimers); // one sweep for the socket, not a timer per request

        await clock.AdvanceInStepsAsync(TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(100));
        Assert.False(fast.IsCompleted);
        await clock.AdvanceInStepsAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100));
        var timedOut = await fast.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(UpstreamOutcome.TimedOut, timedOut.Outcome);
        Assert.Contains("\"fast\"", timedOut.Response);
        Assert.Contains("\"timeoutMs\":1000", timedOut.Response);
        Assert.False(slow.IsCompleted);
        Assert.Equal(12, connection.InFlight);
        await clock.AdvanceInStepsAsync(TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1));
        Assert.Equal(UpstreamOutcome.TimedOut, (await slow.WaitAsync(TimeSpan.FromSeconds(5))).Outcome);
        Assert.False(forever.IsCompleted);

        await connection.DisposeAsync();
        Assert.Equal(armedBefore, clock.ArmedTimers);
        Assert.Equal(UpstreamOutcome.Failed, (await forever.WaitAsync(TimeSpan.FromSeconds(5))).Outcome);
        Assert.All(await Task.WhenAll(more).WaitAsync(TimeSpan.FromSeconds(5)), r => Assert.Equal(UpstreamOutcome.TimedOut, r.Outcome));
    }

    [Fact]
    public async Task ProbeAsync_MeasuresLatencyAndFailsOnTimeout()
    {
        _server.Faults.ProbeDelay = TimeSpan.FromMilliseconds(100);
        var latency = await _connection.ProbeAsync("ping", TimeSpan.FromSeconds(5));
        Assert.NotNull(latency);
        Assert.True(latency >= TimeSpan.FromMilliseconds(90));

        _server.Faults.ProbeDelay = TimeSpan.FromSeconds(10);
        Assert.Null(await _connection.ProbeAsync("ping", TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task TakeLatencySample_ReportsSlowestSinceLastCall()
    {
        Assert.Null(_connection.TakeLatencySample());
        _server.Faults.ReplyDelay = TimeSpan.FromMilliseconds(50);
        await SendAsync("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        Assert.True(_connection.TakeLatencySample() >= TimeSpan.FromMilliseconds(45));
        Assert.Null(_connection.TakeLatencySample());
    }

    [Fact]
    public async Task CloseAsync_GracefulClose_ServerSeesSocketGo()
    {
        await Eventually.TrueAsync(() => _server.OpenSockets == 1);
        await _connection.CloseAsync("done", TimeSpan.FromSeconds(2));
        await Eventually.TrueAsync(() => _server.OpenSockets == 0);
        Assert.False(_connection.IsOpen);
    }

    [Fact]
    public async Task SlowPongs_KeepAliveTimeoutAbortsSocket_InFlightFail()
    {
        var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new UpstreamConnection("test", TimeProvider.System, NullLogger.Instance, (_, _) => { }, r => closed.TrySetResult(r));
        await connection.ConnectAsync(_server.Url, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), CancellationToken.None);

        // The server stalls before its next read, so it answers no ping for 5 s.
        _server.Faults.ReadStall = TimeSpan.FromSeconds(5);
        _server.Faults.ReplyDelay = TimeSpan.FromSeconds(10);
        var bytes = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"echo"}""");
        JsonRpcEnvelope.TryParse(bytes, out var envelope);
        var started = Stopwatch.GetTimestamp();
        var reply = await connection.SendAsync(bytes, envelope, TimeSpan.FromSeconds(30)).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(UpstreamOutcome.Failed, reply.Outcome);
        // Failed by the keep-alive timeout (300 ms), not by the reply (10 s) or the request timeout (30 s). The bound is
        // loose: a full suite on 2 cores once took more than 3 s to get there.
        var took = Stopwatch.GetElapsedTime(started);
        Assert.True(took < TimeSpan.FromSeconds(4.5), $"the request failed only after {took}");
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
