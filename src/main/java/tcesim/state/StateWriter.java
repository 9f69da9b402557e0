package tcesim.state;

import java.util.Arrays;

/**
 * A model state written out as a flat run of 64-bit words.
 *
 * <p>Each component appends what decides its future behaviour, in a canonical order (two components in the
 * same state write the same words, whatever history brought them there), and reads it back in the same order
 * with {@link StateReader}. The exhaustive checker keeps the words of the states it has still to expand and
 * takes their {@link #hash()} as the state's fingerprint, so the words are at once the snapshot that restores
 * a state and the identity that deduplicates it: one definition of "the state" for both.
 */
public final class StateWriter {
    private long[] words = new long[256];
    private int size;

    /** Empties the writer for the next state (the buffer is kept). */
    public StateWriter reset() {
        size = 0;
        return this;
    }

    public void put(long w) {
        if (size == words.length) words = Arrays.copyOf(words, size * 2);
        words[size++] = w;
    }

    public void put(boolean b) { put(b ? 1L : 0L); }

    /** Two words: the pair (a, b). */
    public void put(long a, long b) {
        if (size + 2 > words.length) words = Arrays.copyOf(words, Math.max(size * 2, size + 2));
        words[size] = a;
        words[size + 1] = b;
        size += 2;
    }

    public int size() { return size; }

    /** The words written so far (a view; valid until the next write). */
    public long[] words() { return words; }

    public long[] toArray() { return Arrays.copyOf(words, size); }

    /** A 64-bit hash of the words: the state's fingerprint. */
    public long hash() { return hash(words, 0, size); }

    /** Drops the words written after the first {@code n}. */
    public void truncate(int n) {
        if (n < 0 || n > size) throw new IllegalArgumentException("truncate to " + n + " of " + size);
        size = n;
    }

    private static final long P1 = 0x9E3779B185EBCA87L, P2 = 0xC2B2AE3D27D4EB4FL, P3 = 0x165667B19E3779F9L, P4 = 0x85EBCA77C2B2AE63L,
            P5 = 0x27D4EB2F165667C5L;

    /**
     * The fingerprint of {@code n} words starting at {@code from}: XXH64 (Y. Collet's xxHash, seed 0) of the words as
     * little-endian bytes, a fast hash whose output bits all depend on every input bit. Its four lanes are
     * independent chains of multiplications, so a long state hashes at the multiplier's throughput, not its latency.
     */
    public static long hash(long[] w, int from, int n) {
        int i = from;
        int stop = from + n;
        long h;
        if (n >= 4) {
            long v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1;
            for (; i + 4 <= stop; i += 4) {
                v1 = round(v1, w[i]);
                v2 = round(v2, w[i + 1]);
                v3 = round(v3, w[i + 2]);
                v4 = round(v4, w[i + 3]);
            }
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = merge(h, v1);
            h = merge(h, v2);
            h = merge(h, v3);
            h = merge(h, v4);
        } else {
            h = P5;
        }
        h += 8L * n;
        for (; i < stop; i++) h = Long.rotateLeft(h ^ round(0, w[i]), 27) * P1 + P4;
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        return h ^ (h >>> 32);
    }

    private static long round(long acc, long lane) {
        return Long.rotateLeft(acc + lane * P2, 31) * P1;
    }

    private static long merge(long h, long v) {
        return (h ^ round(0, v)) * P1 + P4;
    }
}
