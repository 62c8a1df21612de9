using System.Collections.Concurrent;

namespace Conduit.Gateway.Sockets;

/// <summary>The open client sessions of this gateway: for permit renewal, health and the shutdown drain.</summary>
internal sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<string, ClientSession> _sessions = new(StringComparer.Ordinal);
    private volatile bool _draining;

    /// <summary>Whether the gateway is shutting down (new sockets are refused with 503).</summary>
    public bool IsDraining => _draining;

    public int Count => _sessions.Count;

    /// <summary>The open sessions, enumerated without a snapshot or a lock (ConcurrentDictionary.Values would copy them all).</summary>
    public IEnumerable<ClientSession> Sessions
    {
        get
        {
            foreach (var pair in _sessions)
            {
                yield return pair.Value;
            }
        }
    }

    /// <summary>Adds a session; false when the gateway is draining.</summary>
    public bool TryAdd(ClientSession session)
    {
        if (_draining)
        {
            return false;
        }

        _sessions[session.SocketId] = session;
        if (_draining)
        {
            // Raced with the start of a drain, which may not have seen it.
            session.RequestClose(ClientSession.CloseGoingAway, "gateway draining", flush: true);
        }

        return true;
    }

    public void Remove(ClientSession session) => _sessions.TryRemove(session.SocketId, out _);

    public bool TryGet(string socketId, out ClientSession? session) => _sessions.TryGetValue(socketId, out session);

    /// <summary>Stops admitting sockets, asks every session to finish its in-flight requests and close with 1001, and waits for them.</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        _draining = true;
        var sessions = _sessions.Values.ToArray();
        foreach (var session in sessions)
        {
            session.RequestClose(ClientSession.CloseGoingAway, "gateway draining", flush: true);
        }

        try
        {
            await Task.WhenAll(sessions.Select(s => s.Completion)).WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            foreach (var session in _sessions.Values)
            {
                session.Abort();
            }
        }
    }
}
