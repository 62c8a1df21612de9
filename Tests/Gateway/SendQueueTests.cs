using Conduit.Gateway.Sockets;

namespace Conduit.Tests.Gateway;

public sealed class SendQueueTests
{
    [Fact]
    public void TryEnqueue_PastCapacity_Refused()
    {
        var queue = new SendQueue(capacity: 2, maxBytes: 1000);

        Assert.True(queue.TryEnqueue(new byte[10]));
        Assert.True(queue.TryEnqueue(new byte[10]));
        Assert.False(queue.TryEnqueue(new byte[10]));
        Assert.Equal(2, queue.Count);
        Assert.Equal(20, queue.Bytes);
    }

    [Fact]
    public void TryEnqueue_PastBytes_Refused()
    {
        var queue = new SendQueue(capacity: 100, maxBytes: 25);

        Assert.True(queue.TryEnqueue(new byte[20]));
        Assert.False(queue.TryEnqueue(new byte[10]));
        Assert.Equal(1, queue.Count);
        Assert.Equal(20, queue.Bytes);
    }

    [Fact]
    public async Task TryDequeue_InOrder_FreesRoom()
    {
        var queue = new SendQueue(capacity: 1, maxBytes: 100);
        queue.TryEnqueue([1]);
        queue.Wake();

        Assert.True(await queue.WaitToReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal([1], first);
        Assert.True(queue.TryDequeue(out var wake));
        Assert.Null(wake);
        Assert.True(queue.TryEnqueue([2]));
        queue.Complete();
        Assert.False(queue.TryEnqueue([3]));
    }

    [Fact]
    public async Task WaitToReadAsync_ReaderWaiting_ReleasedByEnqueueWakeAndComplete()
    {
        var queue = new SendQueue(capacity: 10, maxBytes: 1000);

        var waiting = queue.WaitToReadAsync().AsTask();
        Assert.False(waiting.IsCompleted);
        _ = Task.Run(() => queue.TryEnqueue([1]));
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(queue.TryDequeue(out _));

        waiting = queue.WaitToReadAsync().AsTask();
        Assert.False(waiting.IsCompleted);
        queue.Wake();
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(queue.TryDequeue(out var wake));
        Assert.Null(wake);

        // Completed with nothing left: the reader ends.
        waiting = queue.WaitToReadAsync().AsTask();
        queue.Complete();
        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.False(await queue.WaitToReadAsync());
    }

    [Fact]
    public async Task Complete_WithMessagesLeft_ReaderGetsThemThenEnds()
    {
        var queue = new SendQueue(capacity: 10, maxBytes: 1000);
        queue.TryEnqueue([1]);
        queue.TryEnqueue([2]);
        queue.Complete();

        Assert.True(await queue.WaitToReadAsync());
        Assert.True(queue.TryDequeue(out var first));
        Assert.True(queue.TryDequeue(out var second));
        Assert.Equal([1], first);
        Assert.Equal([2], second);
        Assert.False(queue.TryDequeue(out _));
        Assert.False(await queue.WaitToReadAsync());
        Assert.Equal(0, queue.Count);
        Assert.Equal(0, queue.Bytes);
    }

    [Fact]
    public void Wake_Repeated_KeepsFewUnreadWakeUps()
    {
        var queue = new SendQueue(capacity: 10, maxBytes: 1000);
        for (var i = 0; i < 100; i++)
        {
            queue.Wake();
        }

        var wakes = 0;
        while (queue.TryDequeue(out _))
        {
            wakes++;
        }

        Assert.InRange(wakes, 1, 4);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task WaitToReadAsync_ManyWritersOneReader_EveryMessageReadOnceInEachWritersOrder()
    {
        var queue = new SendQueue(capacity: 100_000, maxBytes: long.MaxValue);
        const int writers = 4, perWriter = 2_000;
        var writing = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                Assert.True(queue.TryEnqueue(BitConverter.GetBytes((w * perWriter) + i)));
            }
        })).ToArray();
        var reading = Task.Run(async () =>
        {
            var last = Enumerable.Repeat(-1, writers).ToArray();
            var read = 0;
            while (await queue.WaitToReadAsync())
            {
                while (queue.TryDequeue(out var message))
                {
                    var value = BitConverter.ToInt32(message!);
                    Assert.True(value % perWriter > last[value / perWriter]);
                    last[value / perWriter] = value % perWriter;
                    read++;
                }
            }

            return read;
        });

        await Task.WhenAll(writing).WaitAsync(TimeSpan.FromSeconds(30));
        queue.Complete();
        Assert.Equal(writers * perWriter, await reading.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void BatchResponse_JoinsAnswersInRequestOrder_SkipsNotifications()
    {
        var batch = new BatchResponse(3);

        Assert.Null(batch.Complete(2, "{\"id\":3}", 7, out var last));
        Assert.False(last);
        Assert.Null(batch.Complete(1, null, 0, out _));
        Assert.Equal("[{\"id\":1},{\"id\":3}]", batch.Complete(0, "{\"id\":1}", 5, out last));
        Assert.True(last);
        Assert.Equal([5L, 0L, 7L], batch.Sequences!);
    }

    [Fact]
    public void BatchResponse_OnlyNotifications_NoAnswer()
    {
        var batch = new BatchResponse(2);
        batch.Complete(0, null, 0, out _);

        Assert.Null(batch.Complete(1, null, 0, out var last));
        Assert.True(last);
        Assert.Null(batch.Sequences); // request mode: nothing numbered
    }
}
