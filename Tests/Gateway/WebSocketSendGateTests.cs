using System.Net.WebSockets;
using System.Text;
using Conduit.Grains.Sockets;

namespace Conduit.Tests.Gateway;

/// <summary>
/// The one-write-at-a-time gate of client and upstream sockets, on a real <see cref="WebSocket"/> over a stream
/// whose writes the test can hold (a peer that stops reading).
/// </summary>
public sealed class WebSocketSendGateTests
{
    [Fact]
    public async Task QueuedMessage_WaitsForThePendingDirectWrite_AndLaterDirectWritesGoBehindIt()
    {
        using var rig = new GateRig();
        rig.Stream.Hold();
        Assert.Equal(DirectSend.Pending, rig.SendNow("a"));

        rig.Gate.Queued();
        var entering = rig.Gate.EnterForQueuedAsync().AsTask();
        Assert.False(entering.IsCompleted);
        Assert.Equal(DirectSend.Queue, rig.SendNow("too early"));

        rig.Stream.Release();
        await entering.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(await rig.Completion.Calls.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        // The loop owns the socket now: direct writes wait until it gives it back.
        Assert.Equal(DirectSend.Queue, rig.SendNow("still too early"));
        await rig.Socket.SendAsync(Utf8("b"), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        rig.Gate.Exit();

        Assert.Equal(DirectSend.Written, rig.SendNow("c"));
        Assert.Equal(["a", "b", "c"], rig.Stream.Payloads());
    }

    [Fact]
    public async Task PendingDirectWriteThatFails_ReportsTheFailure_AndFreesTheSocket()
    {
        using var rig = new GateRig();
        rig.Stream.Hold();
        Assert.Equal(DirectSend.Pending, rig.SendNow("a"));
        rig.Stream.Fail(new IOException("peer gone"));

        var failure = await rig.Completion.Calls.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(failure is WebSocketException or IOException, failure?.ToString());
        await rig.Gate.EnterAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // given back despite the failure
        rig.Gate.Exit();
    }

    [Fact]
    public async Task LoopAndDirectWritersRacing_LoopNeverMissesTheSocketBeingFreed()
    {
        // Two threads write directly while the loop takes the socket 5,000 times; a lost wake-up would leave the loop
        // waiting for good. Every fourth write completes asynchronously, so direct writes are often still pending.
        using var rig = new GateRig(yieldEvery: 4);
        var gate = rig.Gate;
        using var stop = new CancellationTokenSource();
        var direct = 0;
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (rig.SendNow("x") != DirectSend.Queue)
                {
                    Interlocked.Increment(ref direct);
                }

                Thread.Yield(); // racing, not starving the loop's continuations (and the tests running beside this one)
            }
        })).ToArray();

        var loop = Task.Run(async () =>
        {
            // At least 5,000 times, and on until the writers got some direct writes in (on a busy machine their threads
            // may not run at all during the first 5,000).
            for (var i = 0; i < 5_000 || Volatile.Read(ref direct) == 0; i++)
            {
                await gate.EnterAsync();
                gate.Exit();
            }
        });

        await loop.WaitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(Volatile.Read(ref direct) > 0, "the direct writers never got the socket");
        await gate.EnterAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // free at the end: every pending write gave it back
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A gate over a server-side WebSocket on a <see cref="HeldWriteStream"/>, with a recording completion.</summary>
    private sealed class GateRig : IDisposable
    {
        public GateRig(int yieldEvery = 0)
        {
            Stream = new HeldWriteStream { YieldEvery = yieldEvery };
            Socket = WebSocket.CreateFromStream(Stream, new WebSocketCreationOptions { IsServer = true });
        }

        public HeldWriteStream Stream { get; }

        public WebSocket Socket { get; }

        public WebSocketSendGate Gate { get; } = new();

        public RecordingCompletion Completion { get; } = new();

        public DirectSend SendNow(string text)
            => Gate.TrySendNow(Socket, Utf8(text), CancellationToken.None, e => e is WebSocketException or IOException, Completion, out _);

        public void Dispose() => Socket.Dispose();
    }

    private sealed class RecordingCompletion : IDirectSendCompletion
    {
        public System.Threading.Channels.Channel<Exception?> Calls { get; } = System.Threading.Channels.Channel.CreateUnbounded<Exception?>();

        public void OnDirectSendCompleted(Exception? failure) => Calls.Writer.TryWrite(failure);
    }

    /// <summary>Takes writes (server frames: unmasked), optionally held until released or failed; reads never end.</summary>
    private sealed class HeldWriteStream : Stream
    {
        private readonly MemoryStream _written = new();
        private TaskCompletionSource _open = CompletedSource();
        private int _writes;

        /// <summary>Every n-th write completes asynchronously (0: never).</summary>
        public int YieldEvery { get; init; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Hold() => Volatile.Write(ref _open, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        public void Release() => Volatile.Read(ref _open).TrySetResult();

        public void Fail(Exception exception) => Volatile.Read(ref _open).TrySetException(exception);

        /// <summary>The text payloads of the frames written so far (each frame small and unmasked).</summary>
        public string[] Payloads()
        {
            byte[] bytes;
            lock (_written)
            {
                bytes = _written.ToArray();
            }

            var payloads = new List<string>();
            for (var i = 0; i < bytes.Length; i += 2 + bytes[i + 1])
            {
                payloads.Add(Encoding.UTF8.GetString(bytes, i + 2, bytes[i + 1]));
            }

            return [.. payloads];
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Volatile.Read(ref _open).Task.WaitAsync(cancellationToken);
            if (YieldEvery > 0 && Interlocked.Increment(ref _writes) % YieldEvery == 0)
            {
                await Task.Yield();
            }

            lock (_written)
            {
                _written.Write(buffer.Span);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private static TaskCompletionSource CompletedSource()
        {
            var source = new TaskCompletionSource();
            source.SetResult();
            return source;
        }
    }
}
