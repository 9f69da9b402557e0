package tcesim.papr;

import java.util.Arrays;

/**
 * One DMA window: a TCE table named by its LIOBN.
 *
 * <p>Models the table KVM creates with {@code KVM_CREATE_SPAPR_TCE_64} ({@code struct
 * kvm_create_spapr_tce_64 {liobn, page_shift, flags, offset, size}}, Linux
 * {@code include/uapi/linux/kvm.h}) and that QEMU mmaps, so both read the same entries; a table that
 * lives in QEMU instead ({@code SpaprTceTable.table}) has the same geometry. IOBA {@code a} maps to
 * entry {@code a >> page_shift}, valid when {@code offset <= idx < offset + size}.
 *
 * <p>Entries are stored in chunks allocated on the first write of a non-zero value, as KVM allocates the
 * pages behind {@code stt->pages[]} on demand (book3s_64_vio.c, {@code kvmppc_tce_put}: clearing an
 * entry of a page never written does not allocate it). A chunk holds {@link #CHUNK_ENTRIES} entries,
 * KVM's {@code TCES_PER_PAGE} on a 64 KiB-page host (PAGE_SIZE / sizeof(u64)). An 8 TiB window of
 * 4 KiB pages thus costs one reference per chunk until entries are set.
 */
public final class TceTable implements tcesim.state.Snapshot {
    public static final int MIN_PAGE_SHIFT = 12;
    public static final int MAX_PAGE_SHIFT = 34;
    public static final int CHUNK_SHIFT = 13;
    public static final int CHUNK_ENTRIES = 1 << CHUNK_SHIFT;
    /** Bound on the entry count so that the chunk directory fits a Java array. */
    public static final long MAX_ENTRIES = (long) Integer.MAX_VALUE << CHUNK_SHIFT;

    private final long liobn;
    private final int pageShift;
    private final long offset;
    private final long size;
    private final long[][] chunks;
    private int allocatedChunks;
    /** Every page has storage (QEMU zeroed the whole mmapped table at reset: {@link #backEveryPage}). */
    private boolean everyPageBacked;

    public TceTable(long liobn, int pageShift, long offset, long size) {
        String err = checkGeometry(pageShift, offset, size);
        if (err != null) throw new IllegalArgumentException(err);
        this.liobn = liobn;
        this.pageShift = pageShift;
        this.offset = offset;
        this.size = size;
        this.chunks = new long[(int) ((size + CHUNK_ENTRIES - 1) >>> CHUNK_SHIFT)][];
    }

    /** Validates a window geometry; returns null when valid, else a message naming the bad field. */
    public static String checkGeometry(int pageShift, long offset, long size) {
        if (pageShift < MIN_PAGE_SHIFT || pageShift > MAX_PAGE_SHIFT)
            return "page_shift " + pageShift + " out of range " + MIN_PAGE_SHIFT + ".." + MAX_PAGE_SHIFT;
        if (size <= 0 || size > MAX_ENTRIES) return "size " + size + " out of range 1.." + MAX_ENTRIES;
        if (offset < 0) return "offset " + offset + " is negative";
        // The window's last bus address must fit 64 bits: (offset + size) << page_shift.
        long end = offset + size;
        if (end < offset || Long.numberOfLeadingZeros(end) < pageShift)
            return "window offset " + offset + " + size " + size + " overflows 64-bit bus addresses at page_shift " + pageShift;
        return null;
    }

    public long liobn() { return liobn; }
    public int pageShift() { return pageShift; }
    public long pageSize() { return 1L << pageShift; }
    public long pageMask() { return ~(pageSize() - 1); }
    /** First valid entry index (bus offset >> page_shift). */
    public long offset() { return offset; }
    /** Number of entries. */
    public long size() { return size; }
    public long busOffset() { return offset << pageShift; }
    public long windowBytes() { return size << pageShift; }

    /** True when absolute entry index {@code idx} lies in the window. */
    public boolean contains(long idx) {
        return idx >= offset && idx - offset < size;
    }

    /** The entry at absolute index {@code idx}; 0 for a never-written entry. The caller has checked bounds. */
    public long get(long idx) {
        long rel = idx - offset;
        long[] c = chunks[(int) (rel >>> CHUNK_SHIFT)];
        return c == null ? 0 : c[(int) (rel & (CHUNK_ENTRIES - 1))];
    }

    /** Stores {@code tce} at absolute index {@code idx}. Writing 0 into an unallocated chunk allocates nothing. */
    public void put(long idx, long tce) {
        long rel = idx - offset;
        int ci = (int) (rel >>> CHUNK_SHIFT);
        long[] c = chunks[ci];
        if (c == null) {
            if (tce == 0) return;
            int len = (int) Math.min(CHUNK_ENTRIES, size - ((long) ci << CHUNK_SHIFT));
            c = chunks[ci] = new long[len];
            allocatedChunks++;
        }
        c[(int) (rel & (CHUNK_ENTRIES - 1))] = tce;
    }

    /** True when the chunk holding {@code idx} has storage (KVM's real-mode handlers cannot allocate it). */
    public boolean isBacked(long idx) {
        return everyPageBacked || chunks[(int) ((idx - offset) >>> CHUNK_SHIFT)] != null;
    }

    /**
     * QEMU's {@code spapr_tce_reset} zeroes the whole table at machine reset ({@code memset(tcet->table, 0, table_size)});
     * on a table KVM created and QEMU mmapped, each page written faults in through {@code kvm_spapr_tce_fault}, which
     * allocates it: from then on every page has storage, though every entry is 0. (The model keeps entries in chunks
     * allocated on the first non-zero write; only the backing is remembered.)
     */
    public void backEveryPage() { everyPageBacked = true; }

    public int allocatedChunks() { return allocatedChunks; }

    /** The table's pages ({@link #CHUNK_ENTRIES} entries each, KVM's {@code stt->pages[]}), the last one maybe partly used. */
    public int pages() { return chunks.length; }

    /** The non-zero entries by absolute index, in index order. */
    public java.util.SortedMap<Long, Long> nonZeroEntries() {
        java.util.TreeMap<Long, Long> out = new java.util.TreeMap<>();
        for (int ci = 0; ci < chunks.length; ci++) {
            long[] c = chunks[ci];
            if (c == null) continue;
            for (int i = 0; i < c.length; i++) if (c[i] != 0) out.put(offset + ((long) ci << CHUNK_SHIFT) + i, c[i]);
        }
        return out;
    }

    /**
     * The backed chunks and their non-zero entries, in index order: equal entries and backing give equal
     * words whatever the order of writes. Backing is part of the state because real mode cannot allocate.
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(everyPageBacked ? 1 : 0);
        out.put(allocatedChunks);
        for (int ci = 0; ci < chunks.length; ci++) {
            long[] c = chunks[ci];
            if (c == null) continue;
            int n = 0;
            for (long v : c) if (v != 0) n++;
            out.put(ci, n);
            for (int i = 0; i < c.length; i++) if (c[i] != 0) out.put(i, c[i]);
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        everyPageBacked = in.nextInt() != 0;
        int backed = in.nextInt();
        int next = backed == 0 ? chunks.length : in.nextInt();
        allocatedChunks = 0;
        for (int ci = 0; ci < chunks.length; ci++) {
            if (ci != next) {
                chunks[ci] = null;
                continue;
            }
            long[] c = chunks[ci];
            if (c == null) c = chunks[ci] = new long[(int) Math.min(CHUNK_ENTRIES, size - ((long) ci << CHUNK_SHIFT))];
            else Arrays.fill(c, 0);
            allocatedChunks++;
            for (int n = in.nextInt(); n > 0; n--) {
                int i = in.nextInt();
                c[i] = in.next();
            }
            next = allocatedChunks < backed ? in.nextInt() : chunks.length;
        }
    }

    public void clearAll() {
        Arrays.fill(chunks, null);
        allocatedChunks = 0;
        everyPageBacked = false;
    }

    @Override
    public String toString() {
        return String.format("TceTable[liobn=0x%x, page_shift=%d, offset=0x%x, size=%d]", liobn, pageShift, offset, size);
    }
}
