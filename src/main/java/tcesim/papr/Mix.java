package tcesim.papr;

/** 64-bit mixing for state fingerprints (the SplitMix64 finalizer); deterministic across runs and JVMs. */
public final class Mix {
    private Mix() {}

    public static long mix(long h) {
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    public static long mix(long h, long a) {
        return mix(h * 0x9E3779B97F4A7C15L + a);
    }

    public static long mix(long h, long a, long b) {
        return mix(mix(h, a), b);
    }
}
