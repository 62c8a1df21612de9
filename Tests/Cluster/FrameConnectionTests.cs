using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Conduit.Runtime.Transport;

namespace Conduit.Tests.Cluster;

public sealed class FrameConnectionTests : IAsyncLifetime
{
    private readonly ConcurrentBag<FrameConnection> _accepted = [];
    private FrameListener _listener = null!;

    public Task InitializeAsync()
    {
        _listener = new FrameListener(new IPEndPoint(IPAddress.Loopback, 0), 1024, connection =>
        {
            _accepted.Add(connection);
            // Echo server.
            connection.Start((FrameConnection c, in ReadOnlySequence<byte> payload) => c.TrySend(payload.ToArray()), (_, _) => { });
        });
        _listener.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        foreach (var connection in _accepted)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task TrySend_ManyFramesInFlight_AllEchoedIntact()
    {
        var received = new ConcurrentDictionary<int, byte[]>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int count = 5000;
        await using var client = await FrameConnection.ConnectAsync("127.0.0.1", _listener.EndPoint.Port, 1024, TimeSpan.FromSeconds(5), default);
        client.Start((FrameConnection c, in ReadOnlySequence<byte> payload) =>
        {
            var bytes = payload.ToArray();
            received[BinaryPrimitives.ReadInt32LittleEndian(bytes)] = bytes;
            if (received.Count == count)
            {
                all.TrySetResult();
            }
        }, (_, _) => { });

        await Parallel.ForAsync(0, count, async (i, _) =>
        {
            var frame = new byte[4 + (i % 300)];
            BinaryPrimitives.WriteInt32LittleEndian(frame, i);
            Array.Fill(frame, (byte)i, 4, frame.Length - 4);
            Assert.True(client.TrySend(frame));
            await Task.Yield();
        });

        await all.Task.WaitAsync(TimeSpan.FromSeconds(10));
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(4 + (i % 300), received[i].Length);
            Assert.All(received[i].Skip(4), b => Assert.Equal((byte)i, b));
        }
    }

    [Fact]
    public async Task Closed_PeerDisposes_CompletesAndRejectsSends()
    {
        await using var client = await FrameConnection.ConnectAsync("127.0.0.1", _listener.EndPoint.Port, 1024, TimeSpan.FromSeconds(5), default);
        client.Start((FrameConnection _, in ReadOnlySequence<byte> _) => { }, (_, _) => { });
        Assert.True(await Infrastructure.Retry.UntilAsync(() => Task.FromResult(!_accepted.IsEmpty), TimeSpan.FromSeconds(5)));

        await _accepted.Single().DisposeAsync();

        await client.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(client.IsClosed);
        Assert.False(client.TrySend(new byte[] { 1 }));
    }

    [Fact]
    public async Task ReadLoop_FrameOverLimit_ClosesConnectionWithError()
    {
        using var raw = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(IPAddress.Loopback, _listener.EndPoint.Port);
        Assert.True(await Infrastructure.Retry.UntilAsync(() => Task.FromResult(!_accepted.IsEmpty), TimeSpan.FromSeconds(5)));
        var header = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, 1_000_000);

        await raw.SendAsync(header);

        var error = await _accepted.Single().Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.IsType<InvalidDataException>(error);
    }

    [Fact]
    public async Task ConnectAsync_NobodyListening_Throws()
    {
        var port = _listener.EndPoint.Port;
        await _listener.DisposeAsync();

        await Assert.ThrowsAnyAsync<SocketException>(() => FrameConnection.ConnectAsync("127.0.0.1", port, 1024, TimeSpan.FromSeconds(5), default));
    }
}
