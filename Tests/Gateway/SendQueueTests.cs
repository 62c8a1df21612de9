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
    public void BatchResponse_JoinsAnswersInRequestOrder_SkipsNotifications()
    {
        var batch = new BatchResponse(3);

        Assert.Null(batch.Complete(2, "{\"id\":3}", out var last));
        Assert.False(last);
        Assert.Null(batch.Complete(1, null, out _));
        Assert.Equal("[{\"id\":1},{\"id\":3}]", batch.Complete(0, "{\"id\":1}", out last));
        Assert.True(last);
    }

    [Fact]
    public void BatchResponse_OnlyNotifications_NoAnswer()
    {
        var batch = new BatchResponse(2);
        batch.Complete(0, null, out _);

        Assert.Null(batch.Complete(1, null, out var last));
        Assert.True(last);
    }
}
