namespace Conduit.Grains;

/// <summary>The answer of <see cref="IAgentGrain.Forward"/>.</summary>
/// <param name="Response">The response JSON with the client's id, null for a notification.</param>
/// <param name="Sequence">
/// Session mode: the answer's place among the messages the session's upstream connection sent (answers and pushes,
/// numbered from 1 in the order they were read), so that a push (<see cref="IAgentObserver.OnUpstreamMessage"/>)
/// can be written after the answers that came before it. 0 for an answer the upstream did not send now (an error made on
/// the way, a de-duplicated request's copy) and in request mode.
/// </param>
public readonly record struct AgentAnswer(string? Response, long Sequence = 0);
