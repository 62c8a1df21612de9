using Conduit.Runtime.Membership;

namespace Conduit.Runtime.Cluster;

/// <summary>
/// Default placement: rendezvous (highest random weight) hashing of the grain id over the active
/// silos, so every silo and client with the same view picks the same silo, and a silo joining or
/// leaving moves only the grains that hash to it. The directory stays the arbiter.
/// </summary>
internal static class HashPlacement
{
    /// <summary>The silo for <paramref name="grain"/> among <paramref name="silos"/>, or null if there are none.</summary>
    public static SiloAddress? Choose(GrainId grain, IReadOnlyList<SiloAddress> silos)
    {
        SiloAddress? best = null;
        ulong bestScore = 0;
        var grainHash = Fnv1a(grain.Type, Fnv1a(grain.Key, 14695981039346656037UL));
        foreach (var silo in silos)
        {
            var score = Mix(Fnv1a(silo.Endpoint, grainHash) ^ (ulong)silo.Generation);
            if (best is null || score > bestScore)
            {
                best = silo;
                bestScore = score;
            }
        }

        return best;
    }

    private static ulong Fnv1a(string text, ulong hash)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    private static ulong Mix(ulong x)
    {
        // SplitMix64 finalizer: spreads FNV's weak low bits.
        x ^= x >> 30;
        x *= 0xbf58476d1ce4e5b9UL;
        x ^= x >> 27;
        x *= 0x94d049bb133111ebUL;
        return x ^ (x >> 31);
    }
}
