using System.Text;

namespace Conduit.Gateway.Sockets;

/// <summary>Collects the answers of one batch as they complete and joins them into one array at the end.</summary>
internal sealed class BatchResponse(int count)
{
    private readonly string?[] _answers = new string?[count];
    private long[]? _sequences; // made by the first member with a place in the upstream's order (session mode)
    private int _remaining = count;

    /// <summary>The members' places in the upstream's order (0 for none); null when none had one. Complete once the last member is in.</summary>
    public long[]? Sequences => Volatile.Read(ref _sequences);

    /// <summary>
    /// Stores answer <paramref name="index"/> (null for a notification) and its place in the upstream's order
    /// (<paramref name="sequence"/>, 0 for none); returns the joined batch when it was the last one.
    /// </summary>
    /// <returns>The batch response; null while answers are missing or when every element was a notification.</returns>
    public string? Complete(int index, string? answer, long sequence, out bool wasLast)
    {
        _answers[index] = answer;
        if (sequence > 0)
        {
            var sequences = Volatile.Read(ref _sequences) ?? Interlocked.CompareExchange(ref _sequences, new long[_answers.Length], null) ?? _sequences!;
            sequences[index] = sequence;
        }

        wasLast = Interlocked.Decrement(ref _remaining) == 0;
        if (!wasLast)
        {
            return null;
        }

        var builder = new StringBuilder("[");
        var first = true;
        foreach (var item in _answers)
        {
            if (item is null)
            {
                continue;
            }

            if (!first)
            {
                builder.Append(',');
            }

            builder.Append(item);
            first = false;
        }

        // JSON-RPC: a batch of notifications only gets no answer at all.
        return first ? null : builder.Append(']').ToString();
    }
}
