using System.Runtime.InteropServices;
using System.Text;

namespace Conduit.Grains.Agents;

/// <summary>
/// The answered part of an agent's de-duplication memory, kept without an object per id: the id and its response as
/// UTF-8 in byte chunks, one struct per id in a ring (oldest first), and an index from a 64-bit hash of the id to its
/// newest record. None of these arrays holds a reference, so the garbage collector copies them as blocks and never
/// traces them. With objects per id (an entry, the id, the response), a silo answering thousands of requests a second
/// promoted every response out of gen0 as several objects, and its gen0 pauses grew to tens of milliseconds (about
/// 220 bytes and 5 objects per request survived; docs/gateway.md). Not thread-safe: it lives inside one grain's turns.
/// </summary>
internal sealed class AnsweredIds
{
    private const int FirstChunkBytes = 256; // an agent that answered one id holds little
    private const int MaxChunkBytes = 16 * 1024; // below the large-object heap's threshold

    private readonly Dictionary<ulong, long> _index = []; // hash of an id -> sequence number of its newest record
    private Record[] _records = new Record[4]; // a ring: the oldest record at _head
    private int _head;
    private int _count;
    private long _headSequence; // the sequence number of the record at _head
    private byte[]?[] _chunks = new byte[]?[2]; // a ring too: the oldest chunk still in use at _chunkHead
    private int _chunkHead;
    private int _chunkCount;
    private long _headChunk; // the number of the chunk at _chunkHead
    private int _used; // bytes written into the newest chunk
    private long _bytes; // UTF-8 bytes of the records held (ids and responses)

    // The last chunk let go, kept for the next one of the same size: a busy agent's window turns over its chunks every
    // DedupMaxEntries requests, and a new 16 KiB array each time was garbage that had lived long enough to be copied
    // into the older GC generations first.
    private byte[]? _spareChunk;

    /// <summary>Records held, including ids that a later record of the same id has replaced in the index.</summary>
    public int Count => _count;

    /// <summary>UTF-8 bytes of the ids and responses held (the chunks hold at most two chunks more, plus a spare of at most 16 KiB).</summary>
    public long Bytes => _bytes;

    /// <summary>When the oldest record's request arrived (UTC ticks); only valid while <see cref="Count"/> is above 0.</summary>
    public long OldestSeenAt => _records[_head].SeenAt;

    /// <summary>A 64-bit hash of an id: two independent per-process randomized 32-bit hashes, so ids cannot be chosen to collide.</summary>
    private static ulong Hash(string id)
    {
        var second = new HashCode();
        second.AddBytes(MemoryMarshal.AsBytes(id.AsSpan()));
        return ((ulong)(uint)id.GetHashCode() << 32) | (uint)second.ToHashCode();
    }

    /// <summary>
    /// Remembers <paramref name="response"/> (null for none) as the answer to <paramref name="id"/>, unless the response
    /// is more than <paramref name="maxResponseBytes"/> bytes of UTF-8 or the record (id and response) more than
    /// <paramref name="maxRecordBytes"/> (false: nothing is kept).
    /// </summary>
    public bool TryAdd(string id, string? response, long seenAt, int maxResponseBytes, long maxRecordBytes)
    {
        var responseBytes = response is null ? 0 : Encoding.UTF8.GetByteCount(response);
        var idBytes = Encoding.UTF8.GetByteCount(id);
        if (responseBytes > maxResponseBytes || idBytes + responseBytes > maxRecordBytes)
        {
            return false;
        }

        var (bytes, chunk, offset) = Allocate(idBytes + responseBytes);
        Encoding.UTF8.GetBytes(id, bytes.AsSpan(offset, idBytes));
        if (response is not null)
        {
            Encoding.UTF8.GetBytes(response, bytes.AsSpan(offset + idBytes, responseBytes));
        }

        if (_count == _records.Length)
        {
            _records = Grow(_records, _head, _count);
            _head = 0;
        }

        var hash = Hash(id);
        _records[Slot(_head, _count, _records.Length)] = new Record(hash, seenAt, chunk, offset, idBytes, response is null ? -1 : responseBytes);
        _index[hash] = _headSequence + _count;
        _count++;
        _bytes += idBytes + responseBytes;
        return true;
    }

    /// <summary>The response remembered for <paramref name="id"/> if its request arrived after <paramref name="notBefore"/> (UTC ticks).</summary>
    public bool TryGet(string id, long notBefore, out string? response)
    {
        response = null;
        if (!_index.TryGetValue(Hash(id), out var sequence))
        {
            return false;
        }

        ref var record = ref _records[Slot(_head, (int)(sequence - _headSequence), _records.Length)];
        if (record.SeenAt <= notBefore)
        {
            return false;
        }

        var bytes = _chunks[Slot(_chunkHead, (int)(record.Chunk - _headChunk), _chunks.Length)]!.AsSpan(record.Offset);

        // Equal hashes of different ids are astronomically rare; they must still never serve another id's answer.
        if (Encoding.UTF8.GetString(bytes[..record.IdBytes]) != id)
        {
            return false;
        }

        response = record.ResponseBytes < 0 ? null : Encoding.UTF8.GetString(bytes.Slice(record.IdBytes, record.ResponseBytes));
        return true;
    }

    /// <summary>Forgets the oldest record, and the chunks no record uses any more.</summary>
    public void RemoveOldest()
    {
        ref var oldest = ref _records[_head];
        if (_index.TryGetValue(oldest.Hash, out var sequence) && sequence == _headSequence)
        {
            _index.Remove(oldest.Hash); // not when a newer record of the same id took its place
        }

        _bytes -= oldest.IdBytes + Math.Max(0, oldest.ResponseBytes);
        oldest = default;
        _head = Slot(_head, 1, _records.Length);
        _headSequence++;
        _count--;
        var firstInUse = _count == 0 ? _headChunk + _chunkCount - 1 : _records[_head].Chunk; // the newest chunk stays for the next id
        while (_headChunk < firstInUse)
        {
            if (_chunks[_chunkHead]!.Length <= MaxChunkBytes)
            {
                _spareChunk = _chunks[_chunkHead]; // the next chunk of its size reuses it (not one made for a large record)
            }

            _chunks[_chunkHead] = null;
            _chunkHead = Slot(_chunkHead, 1, _chunks.Length);
            _chunkCount--;
            _headChunk++;
        }
    }

    /// <summary>Room for <paramref name="size"/> bytes: the chunk, its number and the offset in it.</summary>
    private (byte[] Bytes, long Chunk, int Offset) Allocate(int size)
    {
        var newest = _chunkCount == 0 ? null : _chunks[Slot(_chunkHead, _chunkCount - 1, _chunks.Length)];
        if (newest is null || newest.Length - _used < size)
        {
            if (_chunkCount == _chunks.Length)
            {
                _chunks = Grow(_chunks, _chunkHead, _chunkCount);
                _chunkHead = 0;
            }

            var length = Math.Max(size, newest is null ? FirstChunkBytes : Math.Min(MaxChunkBytes, newest.Length * 2));
            if (_spareChunk is { } spare && spare.Length == length)
            {
                newest = spare; // its old bytes are overwritten before any record points at them
                _spareChunk = null;
            }
            else
            {
                newest = new byte[length];
            }

            _chunks[Slot(_chunkHead, _chunkCount, _chunks.Length)] = newest;
            _chunkCount++;
            _used = 0;
        }

        var offset = _used;
        _used += size;
        return (newest, _headChunk + _chunkCount - 1, offset);
    }

    private static int Slot(int head, int index, int length)
    {
        var slot = head + index;
        return slot >= length ? slot - length : slot;
    }

    private static T[] Grow<T>(T[] ring, int head, int count)
    {
        var bigger = new T[ring.Length * 2];
        for (var i = 0; i < count; i++)
        {
            bigger[i] = ring[Slot(head, i, ring.Length)];
        }

        return bigger;
    }

    /// <summary>One answered id: where its bytes are (the id, then the response) and when its request arrived.</summary>
    private readonly record struct Record(ulong Hash, long SeenAt, long Chunk, int Offset, int IdBytes, int ResponseBytes);
}
