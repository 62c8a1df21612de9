using System.Text;

namespace Conduit.Gateway.Sockets;

/// <summary>Collects the answers of one batch as they complete and joins them into one array at the end.</summary>
internal sealed class BatchResponse(int count)
{
    private readonly string?[] _answers = new string?[count];
    private int _remaining = count;

    /// <summary>Stores answer <paramref name="index"/> (null for a notification); returns the joined batch when it was the last one.</summary>
    /// <returns>The batch response; null while answers are missing or when every element was a notification.</returns>
    public string? Complete(int index, string? answer, out bool wasLast)
    {
        _answers[index] = answer;
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
