using Conduit.Runtime.Messaging;

namespace Conduit.Runtime.Calls;

/// <summary>A call waiting for its response: the typed task the caller awaits, and its deadline.</summary>
internal interface IPendingCall
{
    /// <summary>The task handed to the caller (a Task or Task&lt;T&gt; as the method declares).</summary>
    Task Task { get; }

    /// <summary>The request, for error messages.</summary>
    Message? Message { get; set; }

    /// <summary>When the call times out, as a <see cref="TimeProvider"/> timestamp.</summary>
    long Deadline { get; set; }

    /// <summary>Completes the caller's task; later completions are ignored.</summary>
    void Complete(object? result, Exception? exception);
}
