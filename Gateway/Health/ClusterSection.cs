namespace Conduit.Gateway.Health;

/// <summary>
/// The cluster as this gateway's process sees it (the silo list itself is on /api/cluster, behind the admin key).
/// </summary>
/// <param name="Mode"><c>single</c>, <c>in-memory</c>, <c>redis</c> or <c>static</c>.</param>
/// <param name="ActiveSilos">Silos taking grain calls.</param>
/// <param name="Silos">Rows of the membership view (dead ones included until they are cleaned up).</param>
/// <param name="StoreReachable">Whether the last read of the membership table succeeded; null where there is none.</param>
/// <param name="StoreUnreachableSince">When its reads started failing, or null.</param>
internal sealed record ClusterSection(string Mode, int ActiveSilos, int Silos, bool? StoreReachable, DateTimeOffset? StoreUnreachableSince);
