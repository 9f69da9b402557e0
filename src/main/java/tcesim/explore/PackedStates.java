package tcesim.explore;

import java.util.Arrays;

/**
 * A sequence of saved states, each kept as the words in which it differs from the state added before it.
 *
 * <p>States of one search level are alike: successors of one state differ from it in the few parts their steps
 * touched, and most of a model's words (the tables nobody wrote, the rings at rest) are the same in every state.
 * So a state is stored as its length, a bitmap of the words that differ from the state before it (a word past the
 * end of the one before counts as 0), and those words. Every {@link #KEY_EVERY}-th state is stored whole (every bit
 * set), so that reading can start there instead of at the first state. What a level's states take drops with it:
 * about a quarter of the words on the standard small configuration, a tenth on a DDW guest's (see
 * {@code PackedStatesTest}, which measures it).
 *
 * <p>Adding is for one thread; reading is through {@link Cursor}s, one per thread, which may run side by side once
 * nothing is being added.
 */
final class PackedStates {
    /** Every this many states, one is stored whole. */
    static final int KEY_EVERY = 64;

    private long[] data = new long[1024];
    private int size;
    /** Where state {@code i} starts in {@link #data}. */
    private int[] start = new int[16];
    private int count;
    /** The state added last, as a reader will have it when it comes to the next one; its length. */
    private long[] last = new long[64];
    private int lastLen;

    int count() { return count; }

    /** Words held, counting the bitmaps and lengths. */
    long words() { return size; }

    /** What the arrays take, as they are allocated. */
    long bytes() { return 8L * data.length + 4L * start.length + 8L * last.length; }

    void clear() {
        size = 0;
        count = 0;
        lastLen = 0;
    }

    /** Adds the state saved in {@code w[from, from + n)}. */
    void add(long[] w, int from, int n) {
        int maps = (n + 63) >>> 6;
        if (size + 1 + maps + n > data.length) data = Arrays.copyOf(data, Math.max(2 * data.length, size + 1 + maps + n));
        if (count + 1 >= start.length) start = Arrays.copyOf(start, 2 * start.length);
        if (last.length < n) last = Arrays.copyOf(last, Math.max(n, 2 * last.length));
        if (n > lastLen) Arrays.fill(last, lastLen, n, 0L);
        boolean whole = count % KEY_EVERY == 0;
        int head = size;
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
        size = v;
        start[count++] = head;
        start[count] = size;
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

        /** Reads the state after the one read last (the first one at the start). */
        void next() { read(at + 1); }

        long[] words() { return buf; }

        int length() { return len; }

        private void decode(int i) {
            int p = start[i];
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
