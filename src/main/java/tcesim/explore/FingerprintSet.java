package tcesim.explore;

/**
 * A set of 64-bit state fingerprints in open-addressing tables of primitive longs (linear probing, no object per
 * state), as explicit-state model checkers keep their seen sets. 0 is reserved as the empty slot; a fingerprint of 0
 * is stored as 1 (one more way to collide, counted in the estimate like any other).
 *
 * <p>The fingerprints are spread over {@value #SEGMENTS} tables by the top bits of their hash, each grown on its own
 * when three quarters full: growing copies one table, not the whole set, so that a set of hundreds of millions of
 * fingerprints (a depth-first search of a large space keeps nothing else) never needs its own size again beside it.
 */
public final class FingerprintSet {
    private static final int SEGMENT_BITS = 6;
    static final int SEGMENTS = 1 << SEGMENT_BITS;

    private final long[][] tables = new long[SEGMENTS][];
    private final int[] counts = new int[SEGMENTS];
    private int size;

    public FingerprintSet(int expected) {
        int perTable = Math.max(16, Integer.highestOneBit(Math.max(1, expected * 2 / SEGMENTS - 1)) << 1);
        for (int t = 0; t < SEGMENTS; t++) tables[t] = new long[perTable];
    }

    /** Adds {@code fp}; true when it was not there. */
    public boolean add(long fp) {
        if (fp == 0) fp = 1;
        long h = fp * 0x9E3779B97F4A7C15L;
        int t = (int) (h >>> (64 - SEGMENT_BITS));
        long[] slots = tables[t];
        if (counts[t] * 4L >= slots.length * 3L) slots = grow(t);
        int mask = slots.length - 1;
        int i = slot(h) & mask;
        while (true) {
            long s = slots[i];
            if (s == 0) {
                slots[i] = fp;
                counts[t]++;
                size++;
                return true;
            }
            if (s == fp) return false;
            i = (i + 1) & mask;
        }
    }

    public boolean contains(long fp) {
        if (fp == 0) fp = 1;
        long h = fp * 0x9E3779B97F4A7C15L;
        long[] slots = tables[(int) (h >>> (64 - SEGMENT_BITS))];
        int mask = slots.length - 1;
        int i = slot(h) & mask;
        while (true) {
            long s = slots[i];
            if (s == 0) return false;
            if (s == fp) return true;
            i = (i + 1) & mask;
        }
    }

    public int size() { return size; }

    /** Empties the set, keeping its tables. */
    public void clear() {
        for (long[] t : tables) java.util.Arrays.fill(t, 0L);
        java.util.Arrays.fill(counts, 0);
        size = 0;
    }

    /** Bytes held by the tables. */
    public long bytes() {
        long b = 0;
        for (long[] t : tables) b += 8L * t.length;
        return b;
    }

    /** The most the set may take besides {@link #bytes()} while it grows: the largest table's next one. */
    public long growthBytes() {
        long b = 0;
        for (long[] t : tables) b = Math.max(b, 16L * t.length);
        return b;
    }

    /** The slot bits, below the table's: the low word of the hash mixed with its high one. */
    private static int slot(long h) {
        return (int) (h ^ (h >>> 32));
    }

    private long[] grow(int t) {
        long[] old = tables[t];
        if (old.length >= 1 << 30) throw new IllegalStateException("the seen set is full: " + size + " fingerprints");
        long[] slots = new long[old.length * 2];
        int mask = slots.length - 1;
        for (long fp : old) {
            if (fp == 0) continue;
            int i = slot(fp * 0x9E3779B97F4A7C15L) & mask;
            while (slots[i] != 0) i = (i + 1) & mask;
            slots[i] = fp;
        }
        tables[t] = slots;
        return slots;
    }

    /** Writes the fingerprints, in {@link #toArray}'s order, without a copy of them. */
    void writeTo(java.io.DataOutput out) throws java.io.IOException {
        for (long[] t : tables) for (long s : t) if (s != 0) out.writeLong(s);
    }

    /** The fingerprints, table by table in slot order (for checkpoints). */
    public long[] toArray() {
        long[] out = new long[size];
        int k = 0;
        for (long[] t : tables) for (long s : t) if (s != 0) out[k++] = s;
        return out;
    }
}
