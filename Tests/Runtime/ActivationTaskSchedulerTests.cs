using Conduit.Runtime.Calls;
using Conduit.Runtime.Scheduling;
using Conduit.Tests.Infrastructure;

namespace Conduit.Tests.Runtime;

public sealed class ActivationTaskSchedulerTests
{
    private static readonly AsyncLocal<string?> CallerLocal = new();

    [Fact]
    public async Task StartPreferInline_IdleSchedulerFromPlainThread_RunsHereWithoutTheCallersAsyncLocals()
    {
        var scheduler = new ActivationTaskScheduler(owner: "test");
        var callerThread = -1;
        int? ranOn = null;
        string? seenLocal = "not run";
        TaskScheduler? seenScheduler = null;

        await Task.Run(() =>
        {
            CallerLocal.Value = "caller's";
            callerThread = Environment.CurrentManagedThreadId;
            scheduler.StartPreferInline(
                _ =>
                {
                    ranOn = Environment.CurrentManagedThreadId;
                    seenLocal = CallerLocal.Value;
                    seenScheduler = TaskScheduler.Current;
                    return Task.CompletedTask;
                },
                null);

            // Ran before StartPreferInline returned, on this thread; the caller's own context is intact afterwards.
            Assert.Equal(callerThread, ranOn);
            Assert.Equal("caller's", CallerLocal.Value);
        });

        Assert.Null(seenLocal);
        Assert.Same(scheduler, seenScheduler);
    }

    [Fact]
    public async Task StartPreferInline_FromInsideAnotherActivationsTurn_Queued()
    {
        var outer = new ActivationTaskScheduler(owner: "outer");
        var inner = new ActivationTaskScheduler(owner: "inner");
        var innerRan = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ranBeforeReturn = true;

        await Task.Factory.StartNew(
            () =>
            {
                inner.StartPreferInline(_ => { innerRan.TrySetResult(Environment.CurrentManagedThreadId); return Task.CompletedTask; }, null);
                ranBeforeReturn = innerRan.Task.IsCompleted;
            },
            CancellationToken.None,
            TaskCreationOptions.None,
            outer);

        Assert.False(ranBeforeReturn);
        await innerRan.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task StartPreferInline_SchedulerBusy_QueuedBehindTheRunningTurnInOrder()
    {
        var scheduler = new ActivationTaskScheduler(owner: "busy");
        using var release = new ManualResetEventSlim();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new List<string>();
        var first = Task.Factory.StartNew(
            () => { started.SetResult(); release.Wait(TimeSpan.FromSeconds(10)); lock (order) { order.Add("first"); } },
            CancellationToken.None,
            TaskCreationOptions.None,
            scheduler);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await Task.Run(() => scheduler.StartPreferInline(_ => { lock (order) { order.Add("second"); } second.SetResult(); return Task.CompletedTask; }, null));

        Assert.False(second.Task.IsCompleted);
        release.Set();
        await Task.WhenAll(first, second.Task).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["first", "second"], order);
    }

    [Fact]
    public async Task TryDeferCompletion_ReplyInsideATurn_CompletesAfterItAndIdleCallerContinuesOnThatThread()
    {
        var callee = new ActivationTaskScheduler(owner: "callee");
        var caller = new ActivationTaskScheduler(owner: "caller");
        var call = new PendingCall<int>();
        var continuedOn = -1;
        var awaiting = await Task.Factory.StartNew(
            async () =>
            {
                var result = await call.Task;
                continuedOn = Environment.CurrentManagedThreadId;
                return result;
            },
            CancellationToken.None,
            TaskCreationOptions.None,
            caller);
        await Eventually.TrueAsync(() => caller.IsIdle);

        var repliedOn = -1;
        var completedInsideTheTurn = true;
        await Task.Factory.StartNew(
            () =>
            {
                repliedOn = Environment.CurrentManagedThreadId;
                Assert.True(ActivationTaskScheduler.TryDeferCompletion(call, 42, null));
                completedInsideTheTurn = call.Task.IsCompleted;
            },
            CancellationToken.None,
            TaskCreationOptions.None,
            callee);

        Assert.Equal(42, await awaiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(completedInsideTheTurn);
        Assert.Equal(repliedOn, continuedOn);
        Assert.False(ActivationTaskScheduler.TryDeferCompletion(new PendingCall<int>(), 1, null)); // not inside a turn
    }
}
