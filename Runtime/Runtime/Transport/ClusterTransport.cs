using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using Conduit.Runtime.Hosting;
using Conduit.Runtime.Membership;
using Microsoft.Extensions.Logging;

namespace Conduit.Runtime.Transport;

/// <summary>
/// The connections of one silo or client: one outgoing connection per remote silo (keyed by address,
/// generation included, so a restarted silo is a new connection), the connections accepted from other
/// silos and from clients, and the requests waiting for a response on any of them. A connection starts
/// with a handshake: the accepting silo sends a Challenge (a fresh nonce), the caller a Hello naming
/// itself, and the silo a HelloAck with its own address, so a caller never talks to a new generation on
/// an old address by mistake. With a cluster key both proofs of it ride on Hello and HelloAck
/// (<see cref="ClusterKeyProof"/>), and nothing a peer sends before its Hello proved the key is decoded.
/// </summary>
internal sealed partial class ClusterTransport : IAsyncDisposable
{
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After a failed attempt to connect to a silo, calls for it fail at once for this long instead of each trying again
    /// (Orleans' <c>ConnectionRetryDelay</c>, also 1 s): until a crashed silo is declared dead every call for one of its
    /// grains would otherwise start a connection attempt, which against a host that is gone from the network waits the
    /// whole connect timeout.
    /// </summary>
    public static readonly TimeSpan ConnectionRetryDelay = TimeSpan.FromSeconds(1);

    private const string KeyHint = "is its Cluster:ClusterKey this process's key or one of its Cluster:AcceptedClusterKeys, and the other way round?";

    /// <summary>How long a refused connection stays open after its refusal was sent, so that the peer can read why.</summary>
    private static readonly TimeSpan RefusalLinger = TimeSpan.FromMilliseconds(200);

    private readonly MessageCodec _codec;
    private readonly ClusterKeyProof? _keyProof;
    private readonly RepeatedLogs _repeated;
    private string _localName;
    private readonly int _maxFrameSize;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _pendingLifetime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<SiloAddress, Lazy<Task<FrameConnection>>> _silos = new();
    private readonly ConcurrentDictionary<SiloAddress, (long At, string Reason)> _failedConnects = new();
    private readonly ConcurrentDictionary<string, FrameConnection> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<FrameConnection, byte> _accepted = new();
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly ITimer _sweeper;
    private FrameListener? _listener;
    private long _nextId;
    private volatile bool _disposed;

    /// <param name="codec">Encodes and decodes messages.</param>
    /// <param name="localName">"silo:{address}" or "client:{runtime id}", sent in Hello.</param>
    /// <param name="maxFrameSize">Largest frame.</param>
    /// <param name="connectTimeout">Longest wait for a connection and its HelloAck.</param>
    /// <param name="pendingLifetime">After this, a request's entry is dropped (its caller has timed out by then).</param>
    /// <param name="time">Clock.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="repeated">Thins out the refusals' log entries (a scanner must not flood the log).</param>
    /// <param name="keyProof">The proofs of the cluster's shared key, or null for none (<see cref="Cluster.ClusterOptions.ClusterKey"/>).</param>
    public ClusterTransport(MessageCodec codec, string localName, int maxFrameSize, TimeSpan connectTimeout, TimeSpan pendingLifetime, TimeProvider time, ILogger logger, RepeatedLogs repeated, ClusterKeyProof? keyProof = null)
    {
        _codec = codec;
        _keyProof = keyProof;
        _repeated = repeated;
        _localName = localName;
        _maxFrameSize = maxFrameSize;
        _connectTimeout = connectTimeout;
        _pendingLifetime = pendingLifetime;
        _time = time;
        _logger = logger;
        _sweeper = time.CreateTimer(static s => ((ClusterTransport)s!).SweepExpired(), this, SweepPeriod, SweepPeriod);
    }

    /// <summary>Called (on a connection's read loop) for each incoming request or one-way message.</summary>
    public Action<ClusterMessage, FrameConnection>? RequestReceived { get; set; }

    /// <summary>"silo:{address}" or "client:{runtime id}", sent in Hello (set before the first connection).</summary>
    public string LocalName
    {
        get => _localName;
        set => _localName = value;
    }

    /// <summary>The silo address announced in HelloAck (null on a client).</summary>
    public SiloAddress? LocalSilo { get; set; }

    /// <summary>Number of requests waiting for a response.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Whether this transport was disposed (its process's silo or client stopped).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The codec (its serializer options) in use.</summary>
    public MessageCodec Codec => _codec;

    /// <summary>Starts accepting silos and clients on <paramref name="endPoint"/>; returns the bound endpoint.</summary>
    public IPEndPoint Listen(IPEndPoint endPoint)
    {
        _listener = new FrameListener(endPoint, _maxFrameSize, OnAccepted);
        _listener.Start();
        return _listener.EndPoint;
    }

    /// <summary>The open connection to <paramref name="silo"/>, connecting (and checking its generation) if needed.</summary>
    public async Task<FrameConnection> GetSiloConnectionAsync(SiloAddress silo)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failedConnects.TryGetValue(silo, out var failed) && _time.GetElapsedTime(failed.At) < ConnectionRetryDelay)
        {
            throw new IOException(
                $"{failed.Reason} (connecting failed {_time.GetElapsedTime(failed.At).TotalMilliseconds:F0} ms ago; the next attempt is {ConnectionRetryDelay.TotalSeconds:F0} s after the last)");
        }

        while (true)
        {
            var lazy = _silos.GetOrAdd(silo, s => new Lazy<Task<FrameConnection>>(() => ConnectAsync(s)));
            try
            {
                var connection = await lazy.Value;
                if (!connection.IsClosed)
                {
                    _failedConnects.TryRemove(silo, out _);
                    return connection;
                }
            }
            catch (Exception e)
            {
                if (_silos.TryRemove(new KeyValuePair<SiloAddress, Lazy<Task<FrameConnection>>>(silo, lazy)))
                {
                    _failedConnects[silo] = (_time.GetTimestamp(), e.Message); // once per attempt, by the first caller to see it fail
                }

                throw;
            }

            _silos.TryRemove(new KeyValuePair<SiloAddress, Lazy<Task<FrameConnection>>>(silo, lazy));
        }
    }

    /// <summary>Connects to a silo by endpoint and returns the address it announces (for configured silo lists).</summary>
    public async Task<SiloAddress> ProbeAsync(string host, int port)
    {
        var connection = await OpenAsync(host, port);
        var address = SiloAddress.Parse(((Peer)connection.Tag!).Name);
        if (!_silos.TryAdd(address, new Lazy<Task<FrameConnection>>(Task.FromResult(connection))))
        {
            await connection.DisposeAsync();
        }

        return address;
    }

    /// <summary>The open connection to <paramref name="silo"/> if there is one now (no connecting).</summary>
    public bool TryGetOpenConnection(SiloAddress silo, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FrameConnection? connection)
    {
        connection = _silos.TryGetValue(silo, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully && !lazy.Value.Result.IsClosed
            ? lazy.Value.Result
            : null;
        return connection is not null;
    }

    /// <summary>Whether an open connection to <paramref name="silo"/> exists.</summary>
    public bool IsConnected(SiloAddress silo)
        => _silos.TryGetValue(silo, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully && !lazy.Value.Result.IsClosed;

    /// <summary>The connection of a client by its runtime id, if it is connected to this silo.</summary>
    public FrameConnection? FindClient(string runtimeId) => _clients.GetValueOrDefault(runtimeId);

    /// <summary>Sends a request; <paramref name="onReply"/> gets the response (or the failure: connection lost, not sent).</summary>
    public void SendRequest(FrameConnection connection, ClusterMessage request, Type? resultType, Action<ClusterMessage?, Exception?> onReply)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new ClusterMessage
        {
            Kind = MessageKind.Request, Id = id, Target = request.Target, Method = request.Method, Arguments = request.Arguments,
            CallChain = request.CallChain, TimeoutMs = request.TimeoutMs,
        };
        var frame = _codec.Encode(message); // throws on arguments that cannot be serialized: the caller's error
        _pending[id] = new Pending(onReply, resultType, connection, _time.GetTimestamp());
        bool sent;
        try
        {
            sent = connection.TrySend(frame);
        }
        catch
        {
            _pending.TryRemove(id, out _); // a frame over the limit: the caller's error, and nothing will answer it
            throw;
        }

        if (!sent && _pending.TryRemove(id, out _))
        {
            onReply(null, new SiloUnavailableException($"The connection to {connection.RemoteEndPoint} is closed."));
        }
    }

    /// <summary>Sends a message that expects no response (one-way calls, replies); false if the connection is closed.</summary>
    public bool Send(FrameConnection connection, ClusterMessage message) => connection.TrySend(_codec.Encode(message));

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _sweeper.Dispose();
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
        }

        var connections = _accepted.Keys.ToList();
        foreach (var lazy in _silos.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                connections.Add(lazy.Value.Result);
            }
        }

        _silos.Clear();
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    private async Task<FrameConnection> ConnectAsync(SiloAddress silo)
    {
        var connection = await OpenAsync(silo.Host, silo.Port);
        var announced = ((Peer)connection.Tag!).Name;
        if (announced != silo.ToString())
        {
            await connection.DisposeAsync();
            throw new SiloUnavailableException($"Silo {silo} is gone: {silo.Endpoint} is now {announced}.");
        }

        return connection;
    }

    private async Task<FrameConnection> OpenAsync(string host, int port)
    {
        var connection = await FrameConnection.ConnectAsync(host, port, _maxFrameSize, _connectTimeout, CancellationToken.None);
        var peer = new Peer(this, connection);
        connection.Tag = peer;
        connection.Start(OnFrame, OnClosed);
        try
        {
            var started = _time.GetTimestamp();
            var challenge = await peer.Challenge.Task.WaitAsync(_connectTimeout);
            peer.Nonce = ClusterKeyProof.NewNonce();
            peer.ChallengeNonce = challenge;
            connection.TrySend(_codec.Encode(new ClusterMessage
            {
                Kind = MessageKind.Hello, Address = _localName, Proof = _keyProof?.ForHello(challenge, peer.Nonce, _localName),
            }));
            await peer.Ready.Task.WaitAsync(_connectTimeout - _time.GetElapsedTime(started) is { Ticks: > 0 } left ? left : TimeSpan.Zero);
            return connection;
        }
        catch (TimeoutException) when (!peer.Challenge.Task.IsCompleted)
        {
            await connection.DisposeAsync();
            throw new SiloUnavailableException($"{host}:{port} accepted the connection but sent no challenge within {_connectTimeout}: is it a silo of this version?");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private void OnAccepted(FrameConnection connection)
    {
        if (_disposed)
        {
            _ = connection.DisposeAsync().AsTask();
            return;
        }

        var peer = new Peer(this, connection) { Accepted = true, ChallengeNonce = ClusterKeyProof.NewNonce() };
        connection.Tag = peer;
        _accepted[connection] = 0;
        connection.Start(OnFrame, OnClosed);
        connection.TrySend(_codec.Encode(new ClusterMessage { Kind = MessageKind.Challenge, Address = peer.ChallengeNonce }));
        _ = RefuseUnlessHelloWithinAsync(connection, peer, _connectTimeout);
    }

    /// <summary>A connection that has not completed its handshake within <paramref name="timeout"/> is refused: a peer that connects and says nothing does not hold a socket for good.</summary>
    private async Task RefuseUnlessHelloWithinAsync(FrameConnection connection, Peer peer, TimeSpan timeout)
    {
        await Task.WhenAny(connection.Closed, Task.Delay(timeout, _time));
        if (!peer.Authenticated && !peer.Refused && !connection.IsClosed)
        {
            Refuse(connection, peer, $"no handshake within {timeout.TotalSeconds:0.#} s");
        }
    }

    private void OnFrame(FrameConnection connection, in ReadOnlySequence<byte> payload)
    {
        var peer = (Peer)connection.Tag!;
        if (!peer.Authenticated)
        {
            // Before the handshake is done only its own frames count: nothing else from a peer that has not proven itself is
            // even decoded (its arguments would be deserialized into the silo's types).
            if (peer.Refused)
            {
                return;
            }

            var kind = payload.Length >= 2 ? (MessageKind)payload.Slice(1, 1).FirstSpan[0] : 0;
            if (kind is not (MessageKind.Challenge or MessageKind.Hello or MessageKind.HelloAck or MessageKind.Fault))
            {
                Refuse(connection, peer, $"it sent a {kind} frame before its handshake");
                return;
            }
        }

        var message = _codec.Decode(payload, id => _pending.TryGetValue(id, out var p) ? p.ResultType : null);
        switch (message.Kind)
        {
            case MessageKind.Request or MessageKind.OneWay:
                RequestReceived?.Invoke(message, connection);
                break;
            case MessageKind.Fault when !peer.Authenticated:
                // The silo refused the handshake and said why.
                var refused = new SiloUnavailableException($"{connection.RemoteEndPoint} refused the connection: {message.ErrorMessage}");
                peer.Challenge.TrySetException(refused);
                peer.Ready.TrySetException(refused);
                break;
            case MessageKind.Response or MessageKind.Fault or MessageKind.Moved:
                if (_pending.TryRemove(message.Id, out var pending))
                {
                    pending.OnReply(message, null);
                }

                break;
            case MessageKind.Challenge when !peer.Accepted:
                peer.Challenge.TrySetResult(message.Address ?? string.Empty);
                break;
            case MessageKind.Hello:
                OnHello(connection, peer, message);
                break;
            case MessageKind.HelloAck when !peer.Accepted && !peer.Authenticated && peer.Nonce is not null:
                peer.Name = message.Address ?? "?";
                if (_keyProof is not null && !_keyProof.VerifyAck(message.Proof, peer.Nonce!, peer.ChallengeNonce!, peer.Name))
                {
                    peer.Ready.TrySetException(new SiloUnavailableException(message.Proof is null
                        ? $"{peer.Name} at {connection.RemoteEndPoint} sent no proof of the cluster key, which this process requires: is Cluster:ClusterKey set on the silos?"
                        : $"{peer.Name} at {connection.RemoteEndPoint} did not prove the cluster key: {KeyHint}"));
                    throw new InvalidDataException("The silo did not prove the cluster key."); // closes the connection
                }

                peer.Authenticated = true;
                peer.Ready.TrySetResult();
                break;
        }
    }

    private void OnHello(FrameConnection connection, Peer peer, ClusterMessage hello)
    {
        var name = hello.Address ?? "?";
        if (!peer.Accepted || peer.Authenticated || peer.ChallengeNonce is null)
        {
            Refuse(connection, peer, "it sent a second Hello, or a Hello on a connection this process opened");
            return;
        }

        var nonce = string.Empty;
        if (_keyProof is not null && !_keyProof.VerifyHello(hello.Proof, peer.ChallengeNonce, name, out nonce))
        {
            Refuse(connection, peer, hello.Proof is null
                ? $"{name} sent no proof of the cluster key, which this silo requires (set Cluster:ClusterKey, or ClusterClient:ClusterKey on a gateway, as on the silos)"
                : $"{name} did not prove the cluster key: {KeyHint}");
            return;
        }

        peer.Name = name;
        peer.Authenticated = true;
        if (peer.Name.StartsWith("client:", StringComparison.Ordinal))
        {
            _clients[peer.Name["client:".Length..]] = connection;
        }

        var self = LocalSilo?.ToString() ?? _localName;
        connection.TrySend(_codec.Encode(new ClusterMessage { Kind = MessageKind.HelloAck, Address = self, Proof = _keyProof?.ForAck(nonce, peer.ChallengeNonce, self) }));
    }

    /// <summary>
    /// Refuses a connection whose peer did not pass the handshake: tells it why (a Fault before the handshake, which the
    /// peer reports), ignores whatever else it sends, and closes it shortly after.
    /// </summary>
    private void Refuse(FrameConnection connection, Peer peer, string reason)
    {
        peer.Refused = true;
        if (_repeated.Admit("silo port connection refused"))
        {
            LogRefused(_logger, connection.RemoteEndPoint, reason);
        }

        connection.TrySend(_codec.Encode(new ClusterMessage { Kind = MessageKind.Fault, ErrorType = typeof(SiloUnavailableException).FullName, ErrorMessage = reason }));
        _ = CloseAfterAsync(connection, RefusalLinger);
    }

    private async Task CloseAfterAsync(FrameConnection connection, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    private void OnClosed(FrameConnection connection, Exception? error)
    {
        var peer = (Peer?)connection.Tag;
        var closed = new SiloUnavailableException($"The connection to {connection.RemoteEndPoint} closed during its handshake.", error);
        if (peer is { Accepted: false })
        {
            peer.Challenge.TrySetException(closed);
            peer.Ready.TrySetException(closed);
        }
        if (peer?.Name.StartsWith("client:", StringComparison.Ordinal) == true)
        {
            _clients.TryRemove(new KeyValuePair<string, FrameConnection>(peer.Name["client:".Length..], connection));
        }

        if (_accepted.TryRemove(connection, out _))
        {
            _ = connection.DisposeAsync().AsTask(); // release its socket and loops; it is already closed
        }

        if (!_disposed)
        {
            LogConnectionClosed(_logger, peer?.Name ?? connection.RemoteEndPoint, error?.Message ?? "closed");
        }

        foreach (var (id, pending) in _pending)
        {
            if (pending.Connection == connection && _pending.TryRemove(id, out _))
            {
                pending.OnReply(null, new SiloUnavailableException($"The connection to {peer?.Name ?? connection.RemoteEndPoint} was lost before the response arrived.", error));
            }
        }
    }

    private void SweepExpired()
    {
        var now = _time.GetTimestamp();
        foreach (var (silo, failed) in _failedConnects)
        {
            if (_time.GetElapsedTime(failed.At, now) >= ConnectionRetryDelay)
            {
                _failedConnects.TryRemove(new KeyValuePair<SiloAddress, (long, string)>(silo, failed)); // dead silos' entries do not pile up
            }
        }

        foreach (var (id, pending) in _pending)
        {
            if (_time.GetElapsedTime(pending.SentAt, now) > _pendingLifetime && _pending.TryRemove(id, out _))
            {
                pending.OnReply(null, new TimeoutException($"No response from {((Peer?)pending.Connection.Tag)?.Name} within {_pendingLifetime}."));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a connection to the silo port from {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to {Peer} closed: {Reason}")]
    private static partial void LogConnectionClosed(ILogger logger, string peer, string reason);

    private sealed record Pending(Action<ClusterMessage?, Exception?> OnReply, Type? ResultType, FrameConnection Connection, long SentAt);

    /// <summary>What a connection knows of its peer, and the reply sink for requests it sends us.</summary>
    internal sealed class Peer(ClusterTransport transport, FrameConnection connection)
    {
        public string Name { get; set; } = connection.RemoteEndPoint;

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Whether this process accepted the connection (it sends the challenge) rather than opened it.</summary>
        public bool Accepted { get; init; }

        /// <summary>Connecting side: the accepting silo's challenge, when it arrives.</summary>
        public TaskCompletionSource<string> Challenge { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The accepting silo's nonce: sent on an accepted connection, received on an opened one.</summary>
        public string? ChallengeNonce { get; set; }

        /// <summary>Connecting side: its own nonce, which the silo's proof covers.</summary>
        public string? Nonce { get; set; }

        /// <summary>Whether the handshake is done (with a cluster key: proven); before, only handshake frames are read.</summary>
        public bool Authenticated { get; set; }

        /// <summary>Whether the connection was refused (it closes shortly; what it sends meanwhile is ignored).</summary>
        public bool Refused { get; set; }

        public RemoteReplySink Sink { get; } = new(transport, connection);
    }
}
