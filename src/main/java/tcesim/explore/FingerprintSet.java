package tcesim.explore;

/**
 * A set of 64-bit state fingerprints in one open-addressing table of primitive longs (linear probing, no
 * object per state), as explicit-state model checkers keep their seen sets. 0 is reserved as the empty
 * slot; a fingerprint of 0 is stored as 1 (one more way to collide, counted in the estimate like any other).
 */
public final class FingerprintSet {
    private long[] slots;
    private int size;
    private int mask;

    public FingerprintSet(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        slots = new long[cap];
        mask = cap - 1;
    }

    /** Adds {@code fp}; true when it was not there. */
    public boolean add(long fp) {
        if (fp == 0) fp = 1;
        if (size * 4L >= slots.length * 3L) grow();
        int i = spread(fp) & mask;
        while (true) {
            long s = slots[i];
            if (s == 0) {
                slots[i] = fp;
                size++;
                return true;
            }
            if (s == fp) return false;
            i = (i + 1) & mask;
        }
    }

    public boolean contains(long fp) {
        if (fp == 0) fp = 1;
        int i = spread(fp) & mask;
        while (true) {
            long s = slots[i];
            if (s == 0) return false;
            if (s == fp) return true;
            i = (i + 1) & mask;
        }
    }

    public int size() { return size; }

    /** Empties the set, keeping its table. */
    public void clear() {
        java.util.Arrays.fill(slots, 0L);
        size = 0;
    }

    /** Bytes held by the table. */
    public long bytes() { return 8L * slots.length; }

    private static int spread(long fp) {
        long h = fp * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        mask = slots.length - 1;
        size = 0;
        for (long s : old) if (s != 0) add(s);
    }

    /** The fingerprints, in table order (for checkpoints). */
    public long[] toArray() {
        long[] out = new long[size];
        int k = 0;
        for (long s : slots) if (s != 0) out[k++] = s;
        return out;
    }
}
