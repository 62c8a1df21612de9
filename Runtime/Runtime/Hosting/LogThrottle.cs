namespace Conduit.Runtime.Hosting;

/// <summary>
/// Lets one log entry of a kind through per period and counts those it holds back, which the next entry let through
/// reports. For entries that come once per grain or per connection while something is wrong for everyone (Redis down,
/// a scanner at the silo port): one line per period says it, thousands would bury it.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan period)
{
    private readonly object _gate = new();
    private long _lastWritten = long.MinValue;
    private int _heldBack;

    /// <summary>Whether to write the entry now; if so, <paramref name="heldBack"/> is how many were held back since the last one written.</summary>
    public bool Admit(out int heldBack)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (_lastWritten != long.MinValue && time.GetElapsedTime(_lastWritten, now) < period)
            {
                _heldBack++;
                heldBack = 0;
                return false;
            }

            heldBack = _heldBack;
            _heldBack = 0;
            _lastWritten = now;
            return true;
        }
    }
}
