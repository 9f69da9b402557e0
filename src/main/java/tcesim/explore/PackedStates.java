package tcesim.explore;

import java.util.Arrays;

/**
 * A sequence of saved states, each kept as the words in which it differs from the state added before it.
 *
 * <p>States of one search level are alike: successors of one state differ from it in the few parts their steps
 * touched, and most of a model's words (the tables nobody wrote, the rings at rest) are the same in every state.
 * So a state is stored as its length, a bitmap of the words that differ from the state before it (a word past the
 * end of the one before counts as 0), and those words. Every {@link #KEY_EVERY}-th state is stored whole (every bit
 * set), so that reading can start there instead of at the first state. On the standard small configuration a level's
 * states take about half their words so (a part whose length changed shifts the words after it; {@code bench}
 * prints the share), a DDW guest's, whose table of every RAM page is the same in all of them, about a tenth.
 *
 * <p>Adding is for one thread; reading is through {@link Cursor}s, one per thread, which may run side by side once
 * nothing is being added.
 */
final class PackedStates {
    /** Every this many states, one is stored whole. */
    static final int KEY_EVERY = 64;
    /** The states are written in blocks of this many words (8 MiB), taken from and given back to a {@link Blocks} pool. */
    static final int BLOCK_BITS = 20, BLOCK = 1 << BLOCK_BITS;

    /**
     * The blocks of the stores of one search: a store that is cleared gives its blocks back and the next level's stores
     * take them, so that a search holds what its largest levels need at once, without the copies and the spare half
     * of arrays that double as they grow. Shared by threads.
     */
    static final class Blocks {
        private final java.util.concurrent.ConcurrentLinkedQueue<long[]> free = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final java.util.concurrent.atomic.AtomicLong allocated = new java.util.concurrent.atomic.AtomicLong();

        /**
         * A block of at least {@code words} words: a whole one from the pool if it has one, else a new one of {@code size}
         * (a store's first blocks are small, so that a search of a few states does not take megabytes).
         */
        long[] take(int words, int size) {
            long[] b = words <= BLOCK ? free.poll() : null;
            if (b != null) return b;
            b = new long[Math.max(size, words)];
            allocated.addAndGet(8L * b.length);
            return b;
        }

        void give(long[] b) {
            if (b.length == BLOCK) free.add(b);
            else allocated.addAndGet(-8L * b.length); // a small first block, or one for a state larger than a block: let it go
        }

        /** What the blocks take, in use or free. */
        long bytes() { return allocated.get(); }

        /** Lets the free blocks go (no level will take them again: a search gone depth-first). */
        void dropFree() {
            for (long[] b; (b = free.poll()) != null; ) allocated.addAndGet(-8L * b.length);
        }
    }

    private final Blocks pool;
    private long[][] blocks = new long[4][];
    private int nBlocks;
    /** Words written in the last block. */
    private int fill;
    /** Words written in all blocks. */
    private long used;
    /** Where state {@code i} starts: its block's index, shifted by {@link #BLOCK_BITS}, and the offset in it. */
    private int[] start = new int[16];
    private int count;
    /** The state added last, as a reader will have it when it comes to the next one; its length. */
    private long[] last = new long[64];
    private int lastLen;

    /** A store with blocks of its own. */
    PackedStates() {
        this(new Blocks());
    }

    /** A store taking its blocks from {@code pool}. */
    PackedStates(Blocks pool) {
        this.pool = pool;
    }

    int count() { return count; }

    /** How many words state {@code i} had as saved. */
    int length(int i) {
        return (int) blocks[start[i] >>> BLOCK_BITS][start[i] & (BLOCK - 1)];
    }

    /** Words held, counting the bitmaps and lengths. */
    long words() { return used; }

    /** What the store's own arrays take besides its blocks (which its pool counts). */
    long bytes() { return 4L * start.length + 8L * last.length + 8L * blocks.length; }

    /** Empties the store and gives its blocks back to the pool. */
    void clear() {
        for (int b = 0; b < nBlocks; b++) {
            pool.give(blocks[b]);
            blocks[b] = null;
        }
        nBlocks = 0;
        fill = 0;
        used = 0;
        count = 0;
        lastLen = 0;
    }

    /** Adds the state saved in {@code w[from, from + n)}. */
    void add(long[] w, int from, int n) {
        int maps = (n + 63) >>> 6;
        int most = 1 + maps + n;
        if (nBlocks == 0 || fill + most > blocks[nBlocks - 1].length) {
            if (nBlocks == blocks.length) blocks = Arrays.copyOf(blocks, 2 * nBlocks);
            if (nBlocks >= 1 << (31 - BLOCK_BITS)) throw new IllegalStateException("more states than a level can hold");
            blocks[nBlocks] = pool.take(most, BLOCK >> Math.max(0, 8 - nBlocks)); // 4096 words, twice that, ..., then whole blocks
            nBlocks++;
            fill = 0;
        }
        long[] data = blocks[nBlocks - 1];
        if (count + 1 >= start.length) start = Arrays.copyOf(start, 2 * start.length);
        if (last.length < n) last = Arrays.copyOf(last, Math.max(n, 2 * last.length));
        if (n > lastLen) Arrays.fill(last, lastLen, n, 0L);
        boolean whole = count % KEY_EVERY == 0;
        int head = fill;
        data[head] = n;
        int map = head + 1;
        Arrays.fill(data, map, map + maps, 0L);
        int v = map + maps;
        for (int i = 0; i < n; i++) {
            long x = w[from + i];
            if (whole || x != last[i]) {
                data[map + (i >>> 6)] |= 1L << i;
                data[v++] = x;
                last[i] = x;
            }
        }
        lastLen = n;
        used += v - head;
        fill = v;
        start[count++] = (nBlocks - 1) << BLOCK_BITS | head;
    }

    /** A reader of the states, in order from any one of them. */
    Cursor cursor() { return new Cursor(); }

    /** Reads states one after another into a buffer of its own, which holds the state read last. */
    final class Cursor {
        private long[] buf = new long[64];
        private int len;
        /** The state in {@link #buf}, or -1. */
        private int at = -1;

        /** Reads state {@code k}: its words are {@code words()[0, length())} until the next read. */
        void read(int k) {
            if (k < 0 || k >= count) throw new IndexOutOfBoundsException("state " + k + " of " + count);
            if (at == k) return;
            // On from the state read last when that is no further than from the last whole state before k.
            int i = at >= 0 && at < k && k - at <= k % KEY_EVERY ? at + 1 : k - k % KEY_EVERY;
            for (; i <= k; i++) decode(i);
        }

        long[] words() { return buf; }

        int length() { return len; }

        private void decode(int i) {
            long[] data = blocks[start[i] >>> BLOCK_BITS];
            int p = start[i] & (BLOCK - 1);
            int n = (int) data[p];
            int maps = (n + 63) >>> 6;
            if (buf.length < n) buf = Arrays.copyOf(buf, Math.max(n, 2 * buf.length));
            if (n > len) Arrays.fill(buf, len, n, 0L);
            int v = p + 1 + maps;
            for (int m = 0; m < maps; m++) {
                long bits = data[p + 1 + m];
                int base = m << 6;
                while (bits != 0) {
                    buf[base + Long.numberOfTrailingZeros(bits)] = data[v++];
                    bits &= bits - 1;
                }
            }
            len = n;
            at = i;
        }
    }
}
