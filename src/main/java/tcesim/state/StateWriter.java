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
        put(a);
        put(b);
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
     * The fingerprint of {@code n} words starting at {@code from}: XXH64's per-word round and final avalanche
     * (Y. Collet's xxHash, the 8-byte tail step), a fast hash whose output bits all depend on every input bit.
     */
    public static long hash(long[] w, int from, int n) {
        long h = P5 + 8L * n;
        for (int i = from; i < from + n; i++) {
            long k = Long.rotateLeft(w[i] * P2, 31) * P1;
            h = Long.rotateLeft(h ^ k, 27) * P1 + P4;
        }
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        return h ^ (h >>> 32);
    }
}
