package tcesim.vhost;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Models {@code struct vhost_iotlb} (drivers/vhost/iotlb.c, include/linux/vhost_iotlb.h): the
 * device IOTLB of a vhost device, a set of inclusive IOVA ranges [start, last] each mapped to a
 * userspace address and a permission.
 *
 * <p>Rules modelled (each from the source named):
 * <ul>
 * <li>Entries live both in an interval tree keyed by start and in an insertion-ordered list
 *     (iotlb.c: INTERVAL_TREE_DEFINE(... START, LAST ...) and {@code list_add_tail(&map->link,
 *     &iotlb->list)} in vhost_iotlb_add_range_ctx).</li>
 * <li>{@code last < start} is refused with -EFAULT (vhost_iotlb_add_range_ctx, from 0bbe30668d89, v5.7). Before it,
 *     v5.1 to v5.6's {@code vhost_new_umem_range} refused only an empty range, and stored a wrapped one ({@code
 *     refuseWrappedRange = false}): no address lies in it, so no lookup finds it, but it takes a FIFO slot and an
 *     INVALIDATE whose range meets the literal overlap predicate removes it.</li>
 * <li>No overlap check on insert: overlapping and even identical ranges coexist
 *     (vhost_iotlb_add_range_ctx inserts unconditionally).</li>
 * <li>Limit: when {@code limit != 0} and {@code nmaps == limit} and the RETIRE flag is set, the
 *     first entry of the insertion list (the oldest inserted) is freed before inserting
 *     (vhost_iotlb_add_range_ctx). vhost.c allocates its device IOTLB with
 *     {@code vhost_iotlb_alloc(max_iotlb_entries, VHOST_IOTLB_FLAG_RETIRE)} (iotlb_alloc), and
 *     {@code max_iotlb_entries} is a module parameter defaulting to 2048 (vhost.c). Lookups never
 *     touch the list, so eviction is FIFO, not LRU.</li>
 * <li>A range [0, 2^64-1] is stored as two entries [0, 2^63-1] and [2^63, 2^64-1], because its
 *     size would overflow u64 (vhost_iotlb_add_range_ctx, added by upstream e2ae38cf3d91,
 *     2022). {@code splitFullRange = false} models the kernels before that fix.</li>
 * <li>Which entry a lookup finds: vhost_iotlb_itree_first() is interval_tree_iter_first()
 *     (include/linux/interval_tree_generic.h), which returns the <em>leftmost</em> node, in the
 *     tree's in-order, among those intersecting the query. The in-order is by start; on insert a
 *     node whose start equals a parent's goes right ({@code if (start < ITSTART(parent)) left
 *     else right}), and rotations keep the in-order, so among equal starts the older entry
 *     comes first. Net rule, used by {@link #find}: among the entries covering an address, the
 *     one with the <b>lowest start</b> wins, ties going to the <b>oldest</b>. (The spec's "the
 *     older of two overlapping entries is found first" is only true when the starts are equal:
 *     a newer entry with a lower start wins over an older one.)</li>
 * <li>Delete: {@code vhost_iotlb_del_range(start, last)} frees, one by one, every node the
 *     tree finds intersecting [start, last], i.e. every entry with {@code e.start <= last &&
 *     start <= e.last} (unsigned), whole; nothing is split or trimmed (iotlb.c).</li>
 * </ul>
 *
 * <p>Implementation: a treap (randomised BST with deterministic priorities derived from the
 * insertion sequence number) keyed by (start, sequence), augmented with the maximum {@code last}
 * of each subtree, over parallel primitive arrays; plus an intrusive doubly-linked insertion
 * list over the same slots. Lookup, insert and remove are O(log n) expected. All addresses are
 * unsigned 64-bit values carried in Java longs; internally they are stored XOR
 * {@link Long#MIN_VALUE} so that signed comparison gives unsigned order.
 */
public final class VhostIotlb implements tcesim.state.Snapshot {

    /** Default of vhost.c's {@code max_iotlb_entries} module parameter. */
    public static final int DEFAULT_MAX_ENTRIES = 2048;

    private static final int NIL = -1;
    private static final long BIAS = Long.MIN_VALUE;

    /** An entry, as seen from outside (unbiased, unsigned values in longs). */
    public record Entry(long start, long last, long uaddr, int perm) {
        @Override
        public String toString() {
            return "[0x" + Long.toHexString(start) + "..0x" + Long.toHexString(last) + "]->0x"
                    + Long.toHexString(uaddr) + " perm " + perm;
        }
    }

    /** Visitor for {@link #forEach}. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(long start, long last, long uaddr, int perm);
    }

    private final int limit;
    private final boolean splitFullRange;
    private final boolean refuseWrappedRange;

    // Per-slot data. startB/lastB/maxLastB are biased (x ^ BIAS).
    private long[] startB;
    private long[] lastB;
    private long[] maxLastB;
    private long[] uaddr;
    private long[] seq;
    private int[] perm;
    private int[] left;
    private int[] right;
    private int[] prio;
    private int[] insPrev;
    private int[] insNext; // also the free-list link for free slots

    private int root = NIL;
    private int head = NIL; // oldest
    private int tail = NIL; // newest
    private int freeHead = NIL;
    private int used;       // slots ever handed out (high-water mark)
    private int size;
    private long nextSeq;

    private long hits;
    private long misses;
    private long evictions;
    private long insertions;

    // Scratch outputs of split().
    private int splitL;
    private int splitR;

    /** An IOTLB with the default limit (2048) and the current kernels' range splitting. */
    public VhostIotlb() {
        this(DEFAULT_MAX_ENTRIES);
    }

    /** @param limit maximum number of entries; 0 means unlimited (as in iotlb.c) */
    public VhostIotlb(int limit) {
        this(limit, true);
    }

    /**
     * @param limit          maximum number of entries; 0 means unlimited
     * @param splitFullRange store [0, 2^64-1] as two halves (kernels with e2ae38cf3d91) or as
     *                       one entry whose size overflows to 0 (kernels before it)
     */
    public VhostIotlb(int limit, boolean splitFullRange) {
        this(limit, splitFullRange, true);
    }

    /** @param refuseWrappedRange refuse {@code last < start} (v5.7 on) or store it (v5.1 to v5.6) */
    public VhostIotlb(int limit, boolean splitFullRange, boolean refuseWrappedRange) {
        if (limit < 0) throw new IllegalArgumentException("limit < 0: " + limit);
        this.limit = limit;
        this.splitFullRange = splitFullRange;
        this.refuseWrappedRange = refuseWrappedRange;
        allocate(limit == 0 ? 16 : Math.min(limit, 64));
    }

    private void allocate(int cap) {
        startB = new long[cap];
        lastB = new long[cap];
        maxLastB = new long[cap];
        uaddr = new long[cap];
        seq = new long[cap];
        perm = new int[cap];
        left = new int[cap];
        right = new int[cap];
        prio = new int[cap];
        insPrev = new int[cap];
        insNext = new int[cap];
    }

    private void grow() {
        // Eviction happens before a slot is taken, so at most `limit` slots are ever live.
        int cap = startB.length * 2;
        if (limit != 0) cap = Math.min(cap, limit);
        if (cap <= startB.length) cap = startB.length + 1;
        startB = Arrays.copyOf(startB, cap);
        lastB = Arrays.copyOf(lastB, cap);
        maxLastB = Arrays.copyOf(maxLastB, cap);
        uaddr = Arrays.copyOf(uaddr, cap);
        seq = Arrays.copyOf(seq, cap);
        perm = Arrays.copyOf(perm, cap);
        left = Arrays.copyOf(left, cap);
        right = Arrays.copyOf(right, cap);
        prio = Arrays.copyOf(prio, cap);
        insPrev = Arrays.copyOf(insPrev, cap);
        insNext = Arrays.copyOf(insNext, cap);
    }

    // ------------------------------------------------------------------ queries

    public int limit() {
        return limit;
    }

    public boolean splitsFullRange() {
        return splitFullRange;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** Number of {@link #find} calls that found an entry. */
    public long hits() {
        return hits;
    }

    /** Number of {@link #find} calls that found nothing. */
    public long misses() {
        return misses;
    }

    /** Number of entries retired because the IOTLB was full. */
    public long evictions() {
        return evictions;
    }

    /** Number of entries ever inserted (a split full range counts twice). */
    public long insertions() {
        return insertions;
    }

    /**
     * The entry the kernel's translation would use for {@code addr}, as an opaque handle valid
     * until the next mutation, or -1. Counts a hit or a miss. See the class comment for the rule.
     */
    public int find(long addr) {
        int h = firstOverlap(addr, addr);
        if (h == NIL) misses++;
        else hits++;
        return h;
    }

    /** Like {@link #find} without touching the counters. */
    public int peek(long addr) {
        return firstOverlap(addr, addr);
    }

    /** {@link #peek} as a value, or null. */
    public Entry lookup(long addr) {
        int h = firstOverlap(addr, addr);
        return h == NIL ? null : entry(h);
    }

    /**
     * vhost_iotlb_itree_first(start, last): the leftmost entry (lowest start, then oldest) with
     * {@code e.start <= last && start <= e.last} (unsigned), as a handle, or -1. Like the kernel,
     * it applies that predicate literally even when {@code start > last}.
     */
    public int firstOverlap(long start, long last) {
        long qs = start ^ BIAS;
        long ql = last ^ BIAS;
        int n = root;
        if (n == NIL || maxLastB[n] < qs) return NIL;
        while (n != NIL) {
            int l = left[n];
            if (l != NIL && maxLastB[l] >= qs) {
                // The leftmost node meeting "qs <= last" is in the left subtree: commit to it.
                n = l;
                continue;
            }
            if (startB[n] <= ql) {
                if (qs <= lastB[n]) return n;
                int r = right[n];
                if (r != NIL && maxLastB[r] >= qs) {
                    n = r;
                    continue;
                }
            }
            return NIL;
        }
        return NIL;
    }

    public long entryStart(int h) {
        return startB[h] ^ BIAS;
    }

    public long entryLast(int h) {
        return lastB[h] ^ BIAS;
    }

    public long entryUaddr(int h) {
        return uaddr[h];
    }

    public int entryPerm(int h) {
        return perm[h];
    }

    public Entry entry(int h) {
        return new Entry(entryStart(h), entryLast(h), uaddr[h], perm[h]);
    }

    /** Visits the entries oldest first (the kernel's {@code iotlb->list} order). */
    public void forEach(EntryVisitor v) {
        for (int n = head; n != NIL; n = insNext[n]) {
            v.visit(startB[n] ^ BIAS, lastB[n] ^ BIAS, uaddr[n], perm[n]);
        }
    }

    /** Snapshot of the entries, oldest first. */
    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>(size);
        for (int n = head; n != NIL; n = insNext[n]) out.add(entry(n));
        return out;
    }

    /**
     * The entries in insertion order (start, last, uaddr, perm of each, after the count): two IOTLBs that
     * save the same words hold the same entries in the same order, hence behave identically for lookups,
     * deletes and future evictions. Counters and the limit are not saved.
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(size);
        for (int n = head; n != NIL; n = insNext[n]) {
            out.put(startB[n] ^ BIAS, lastB[n] ^ BIAS);
            out.put(uaddr[n], perm[n]);
        }
    }

    /**
     * Rebuilds the saved entries in their order (no eviction: there are at most {@code limit}); counters are kept. An IOTLB
     * that already holds exactly those entries in that order is left as it is (restoring a state into the model that just
     * left it is the checker's common case).
     */
    @Override
    public void restore(tcesim.state.StateReader in) {
        int count = in.nextInt();
        long[] w = scratch.length >= 4 * count ? scratch : (scratch = new long[4 * count]);
        for (int i = 0; i < 4 * count; i++) w[i] = in.next();
        if (count == size) {
            int n = head;
            int i = 0;
            while (n != NIL && (startB[n] ^ BIAS) == w[i] && (lastB[n] ^ BIAS) == w[i + 1] && uaddr[n] == w[i + 2] && perm[n] == (int) w[i + 3]) {
                n = insNext[n];
                i += 4;
            }
            if (n == NIL) return;
        }
        clear();
        nextSeq = 0;
        for (int i = 0; i < 4 * count; i += 4) insert(w[i], w[i + 1], w[i + 2], (int) w[i + 3]);
    }

    private long[] scratch = new long[0];

    /** Whether both hold the same entries in the same insertion order. */
    public boolean sameContents(VhostIotlb o) {
        if (o.size != size) return false;
        int a = head;
        int b = o.head;
        while (a != NIL) {
            if (startB[a] != o.startB[b] || lastB[a] != o.lastB[b] || uaddr[a] != o.uaddr[b]
                    || perm[a] != o.perm[b]) {
                return false;
            }
            a = insNext[a];
            b = o.insNext[b];
        }
        return true;
    }

    /** A deep copy (contents, order, counters), for state exploration. */
    public VhostIotlb copy() {
        VhostIotlb c = new VhostIotlb(limit, splitFullRange, refuseWrappedRange);
        c.startB = startB.clone();
        c.lastB = lastB.clone();
        c.maxLastB = maxLastB.clone();
        c.uaddr = uaddr.clone();
        c.seq = seq.clone();
        c.perm = perm.clone();
        c.left = left.clone();
        c.right = right.clone();
        c.prio = prio.clone();
        c.insPrev = insPrev.clone();
        c.insNext = insNext.clone();
        c.root = root;
        c.head = head;
        c.tail = tail;
        c.freeHead = freeHead;
        c.used = used;
        c.size = size;
        c.nextSeq = nextSeq;
        c.hits = hits;
        c.misses = misses;
        c.evictions = evictions;
        c.insertions = insertions;
        return c;
    }

    // ------------------------------------------------------------------ mutation

    /**
     * vhost_iotlb_add_range(start, last, addr, perm): 0, or -EFAULT when {@code last < start}
     * (unsigned). Evicts the oldest entry first when full.
     */
    public int insert(long start, long last, long addr, int perm) {
        if (refuseWrappedRange && Long.compareUnsigned(last, start) < 0) return -Errno.EFAULT;
        if (splitFullRange && start == 0 && last == -1L) {
            // iotlb.c: "If the range being mapped is [0, ULONG_MAX], split it into two entries
            // otherwise its size would overflow u64."
            long mid = Long.MAX_VALUE; // ULONG_MAX / 2
            insert(0, mid, addr, perm);
            addr += mid + 1;
            start = mid + 1;
        }
        if (limit != 0 && size == limit) {
            removeSlot(head);
            evictions++;
        }
        int n = newSlot();
        startB[n] = start ^ BIAS;
        lastB[n] = last ^ BIAS;
        maxLastB[n] = lastB[n];
        uaddr[n] = addr;
        this.perm[n] = perm;
        seq[n] = nextSeq++;
        prio[n] = (int) (mix(seq[n]) >>> 33);
        left[n] = NIL;
        right[n] = NIL;
        // The new node has the largest sequence number, so it sorts after every equal start:
        // the same place the kernel's "equal goes right" insert puts it.
        root = treapInsert(root, n);
        insPrev[n] = tail;
        insNext[n] = NIL;
        if (tail == NIL) head = n;
        else insNext[tail] = n;
        tail = n;
        size++;
        insertions++;
        return 0;
    }

    /**
     * vhost_iotlb_del_range(start, last): removes every entry with {@code e.start <= last &&
     * start <= e.last} (unsigned), whole. Returns how many were removed.
     */
    public int delete(long start, long last) {
        int removed = 0;
        int n;
        while ((n = firstOverlap(start, last)) != NIL) {
            removeSlot(n);
            removed++;
        }
        return removed;
    }

    /** vhost_iotlb_reset(): removes everything. Counters are kept. */
    public void clear() {
        root = NIL;
        head = NIL;
        tail = NIL;
        freeHead = NIL;
        used = 0;
        size = 0;
    }

    private int newSlot() {
        if (freeHead != NIL) {
            int n = freeHead;
            freeHead = insNext[n];
            return n;
        }
        if (used == startB.length) grow();
        return used++;
    }

    private void removeSlot(int n) {
        root = treapRemove(root, n);
        int p = insPrev[n];
        int q = insNext[n];
        if (p == NIL) head = q;
        else insNext[p] = q;
        if (q == NIL) tail = p;
        else insPrev[q] = p;
        insNext[n] = freeHead;
        freeHead = n;
        size--;
    }

    // ------------------------------------------------------------------ treap internals

    private boolean less(int a, int b) {
        return startB[a] < startB[b] || (startB[a] == startB[b] && seq[a] < seq[b]);
    }

    private void pull(int t) {
        long m = lastB[t];
        int l = left[t];
        int r = right[t];
        if (l != NIL && maxLastB[l] > m) m = maxLastB[l];
        if (r != NIL && maxLastB[r] > m) m = maxLastB[r];
        maxLastB[t] = m;
    }

    private int treapInsert(int t, int n) {
        if (t == NIL) return n;
        if (prio[n] > prio[t]) {
            split(t, n);
            left[n] = splitL;
            right[n] = splitR;
            pull(n);
            return n;
        }
        if (less(n, t)) left[t] = treapInsert(left[t], n);
        else right[t] = treapInsert(right[t], n);
        pull(t);
        return t;
    }

    /** Splits t into keys < key(k) (splitL) and keys >= key(k) (splitR). */
    private void split(int t, int k) {
        if (t == NIL) {
            splitL = NIL;
            splitR = NIL;
            return;
        }
        if (less(t, k)) {
            split(right[t], k);
            right[t] = splitL;
            pull(t);
            splitL = t;
        } else {
            split(left[t], k);
            left[t] = splitR;
            pull(t);
            splitR = t;
        }
    }

    private int merge(int a, int b) {
        if (a == NIL) return b;
        if (b == NIL) return a;
        if (prio[a] > prio[b]) {
            right[a] = merge(right[a], b);
            pull(a);
            return a;
        }
        left[b] = merge(a, left[b]);
        pull(b);
        return b;
    }

    private int treapRemove(int t, int n) {
        if (t == n) return merge(left[t], right[t]);
        if (less(n, t)) left[t] = treapRemove(left[t], n);
        else right[t] = treapRemove(right[t], n);
        pull(t);
        return t;
    }

    /** splitmix64 finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "VhostIotlb{size=" + size + ", limit=" + limit + ", " + entries() + "}";
    }
}
