package tcesim.explore;

/**
 * A set of 64-bit state fingerprints in open-addressing tables of primitive longs (linear probing, no object per
 * state), as explicit-state model checkers keep their seen sets. 0 is reserved as the empty slot; a fingerprint of 0
 * is stored as 1 (one more way to collide, counted in the estimate like any other).
 *
 * <p>A search's seen set ({@link #FingerprintSet(int)}) spreads its fingerprints over {@value #SEEN_TABLES} tables by
 * the top bits of their hash, each grown on its own when three quarters full: growing copies one table, not the whole
 * set, so that a set of hundreds of millions of fingerprints (a depth-first search of a large space keeps nothing
 * else) never needs its own size again beside it, and no table is one of the large arrays that the JVM's collector
 * must find contiguous room for (at 100 million fingerprints a table takes about 400 KiB). A small set
 * ({@link #small}) is one table.
 */
public final class FingerprintSet {
    /** The tables of a seen set. */
    static final int SEEN_TABLES = 1 << 12;

    private final int tableBits;
    private final long[][] tables;
    private final int[] counts;
    private int size;
    /**
     * The slots of every table, and the most of any one table: kept as the tables grow, since a search asks for its memory
     * every few hundred states and should not read thousands of tables to answer.
     */
    private long slotCount;
    private int largestTable;

    /** A seen set, for about {@code expected} fingerprints to begin with. */
    public FingerprintSet(int expected) {
        this(expected, Integer.numberOfTrailingZeros(SEEN_TABLES));
    }

    /** A set of one table, for a few thousand fingerprints (cleared and used again). */
    static FingerprintSet small(int expected) {
        return new FingerprintSet(expected, 0);
    }

    private FingerprintSet(int expected, int tableBits) {
        this.tableBits = tableBits;
        int n = 1 << tableBits;
        tables = new long[n][];
        counts = new int[n];
        int perTable = Math.max(16, Integer.highestOneBit(Math.max(1, (int) Math.min(1 << 29, 2L * expected / n) - 1)) << 1);
        for (int t = 0; t < n; t++) tables[t] = new long[perTable];
        slotCount = (long) n * perTable;
        largestTable = perTable;
    }

    /** The table of hash {@code h}: its top {@link #tableBits} bits (none, 0, for one table). */
    private int table(long h) {
        return (int) ((h >>> 1) >>> (63 - tableBits));
    }

    /** Adds {@code fp}; true when it was not there. */
    public boolean add(long fp) {
        if (fp == 0) fp = 1;
        long h = fp * 0x9E3779B97F4A7C15L;
        int t = table(h);
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
        long[] slots = tables[table(h)];
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
    public long bytes() { return 8L * slotCount; }

    /** The most the set may take besides {@link #bytes()} while it grows: the largest table's next one. */
    public long growthBytes() { return 16L * largestTable; }

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
        slotCount += slots.length - old.length;
        largestTable = Math.max(largestTable, slots.length);
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
