package tcesim.vfio;

import java.util.Arrays;
import tcesim.papr.Tce;

/**
 * The PHB's TCE cache: translations the host bridge fetched from the hardware TCE table and keeps using
 * until software kills them.
 *
 * <p>Models the TCE cache of a POWER8/POWER9 PHB (PHB3/PHB4) and its "TCE Kill" invalidation. Facts used:
 * <ul>
 * <li>Every update of a hardware TCE needs a TCE cache invalidation; the interface invalidates one TCE,
 *     all TCEs of a PE, or the whole cache, through OPAL or the "TCE Kill" register ("KVM: PPC:
 *     vfio/spapr_tce: Split out TCE invalidation from TCE updates", A. Kardashevskiy, 2019). Linux:
 *     {@code pnv_pci_ioda2_tce_invalidate} ({@code pci-ioda.c}) writes one kill per page of the range on
 *     PHB3 ({@code PHB3_TCE_KILL_INVAL_ONE}, from index to index + npages - 1) or calls
 *     {@code opal_pci_tce_kill(..., OPAL_PCI_TCE_KILL_PAGES, pe, page size, index << shift, npages)}.
 *     {@link #invalidate(long, long)} removes exactly that range; {@link #invalidateAll()} is the PE kill.
 * <li>The cache holds about 1024 TCEs ("KVM: PPC: Fix TCE handling for VFIO", 2022): the default
 *     {@link #DEFAULT_CAPACITY}.
 * <li>A cached TCE is matched on the DMA bus address and the PE number (LKML discussion of PHB TCE cache
 *     hits); this model caches one PE, keyed by absolute entry index (bus address >> page shift).
 * </ul>
 *
 * <p>Modelling choice: <b>direct-mapped</b>, slot = entry index mod capacity, no fill of invalid entries.
 * The real organisation (associativity, replacement) is not public as far as we found. Direct mapping is
 * deterministic, O(1) per lookup with two primitive arrays (the model checker runs it a lot), and makes
 * a stale entry's lifetime depend on addresses, not time: a killed-too-late entry stays until an
 * aliasing index ({@code idx + k * capacity}) is filled. Consecutive indices never conflict within a run
 * of {@code capacity}, so the guest's sequential IOVA allocation sees a cache of the documented size.
 *
 * <p>Counters (hits, misses, fills, evictions, kills, killed entries) are bookkeeping and are excluded
 * from the saved state ({@link #save}).
 */
public final class PhbTceCache implements tcesim.state.Snapshot {
    public static final int DEFAULT_CAPACITY = 1024;
    /** Returned by {@link #lookup} and {@link #peek} when the index is not cached; {@link #fill} refuses it as a TCE (no valid hpa is negative). */
    public static final long MISS = -1L;
    private static final long EMPTY = -1L;

    private final int capacity;
    private final long[] tags;
    private final long[] tces;
    private int occupied;
    private long hits, misses, fills, evictions, kills, killedEntries;

    public PhbTceCache() {
        this(DEFAULT_CAPACITY);
    }

    public PhbTceCache(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("capacity " + capacity + " must be positive");
        this.capacity = capacity;
        this.tags = new long[capacity];
        this.tces = new long[capacity];
        Arrays.fill(tags, EMPTY);
    }

    public int capacity() { return capacity; }

    /** Number of cached entries. */
    public int occupied() { return occupied; }

    private int slot(long idx) {
        return (int) Math.floorMod(idx, (long) capacity);
    }

    /** The device's lookup: the cached TCE for {@code idx}, or {@link #MISS}. Counts a hit or a miss. */
    public long lookup(long idx) {
        long v = peek(idx);
        if (v == MISS) misses++;
        else hits++;
        return v;
    }

    /** As {@link #lookup} without counting: for oracles and tests. */
    public long peek(long idx) {
        if (idx < 0) return MISS;
        int s = slot(idx);
        return tags[s] == idx ? tces[s] : MISS;
    }

    public boolean isCached(long idx) { return peek(idx) != MISS; }

    /**
     * Caches {@code tce} (fetched from the table) for {@code idx}, evicting whatever occupies its slot. An
     * invalid TCE is not cached: the fetch faults instead.
     */
    public void fill(long idx, long tce) {
        if (idx < 0) throw new IllegalArgumentException("negative entry index " + idx);
        if (tce == MISS) throw new IllegalArgumentException("TCE -1 is reserved for MISS");
        if (!Tce.valid(tce)) return;
        int s = slot(idx);
        if (tags[s] == EMPTY) occupied++;
        else if (tags[s] != idx) evictions++;
        tags[s] = idx;
        tces[s] = tce;
        fills++;
    }

    /**
     * tce_kill for {@code [idx, idx + npages)}: every cached entry in the range is dropped, nothing outside
     * it. Returns how many entries were dropped. npages 0 drops nothing (the kill is still counted).
     */
    public int invalidate(long idx, long npages) {
        if (npages < 0) throw new IllegalArgumentException("negative npages " + npages);
        kills++;
        int dropped = 0;
        if (npages < capacity) {
            for (long i = idx; i < idx + npages; i++) {
                if (i < 0) continue;
                int s = slot(i);
                if (tags[s] == i) dropped += drop(s);
            }
        } else {
            long end = idx + npages; // npages < 2^63 - idx in any valid window
            for (int s = 0; s < capacity; s++) {
                long t = tags[s];
                if (t != EMPTY && t >= idx && t < end) dropped += drop(s);
            }
        }
        killedEntries += dropped;
        return dropped;
    }

    /** The PE-wide kill ({@code OPAL_PCI_TCE_KILL_PE} / {@code PHB3_TCE_KILL_INVAL_PE}): drops everything. */
    public int invalidateAll() {
        kills++;
        int dropped = 0;
        for (int s = 0; s < capacity; s++) if (tags[s] != EMPTY) dropped += drop(s);
        killedEntries += dropped;
        return dropped;
    }

    private int drop(int s) {
        tags[s] = EMPTY;
        tces[s] = 0;
        occupied--;
        return 1;
    }

    public long hits() { return hits; }
    public long misses() { return misses; }
    public long fills() { return fills; }
    public long evictions() { return evictions; }
    /** Invalidation requests received (range or PE-wide). */
    public long kills() { return kills; }
    /** Entries actually dropped by invalidations. */
    public long killedEntries() { return killedEntries; }

    /** The cached (index, TCE) pairs in slot order; counters are bookkeeping. */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(occupied);
        for (int s = 0; s < capacity; s++) if (tags[s] != EMPTY) out.put(tags[s], tces[s]);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        Arrays.fill(tags, EMPTY);
        Arrays.fill(tces, 0);
        occupied = in.nextInt();
        for (int k = 0; k < occupied; k++) {
            long idx = in.next();
            int s = slot(idx);
            tags[s] = idx;
            tces[s] = in.next();
        }
    }

    @Override
    public String toString() {
        return String.format("PhbTceCache[%d/%d, hits=%d, misses=%d, kills=%d]", occupied, capacity, hits, misses, kills);
    }
}
