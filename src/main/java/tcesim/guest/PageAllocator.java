package tcesim.guest;

import java.util.Arrays;
import java.util.Objects;

/**
 * The guest kernel's page allocator for order-0 pages, with each page's reference count.
 *
 * <p>Pages are the guest kernel's own ({@code PAGE_SIZE}): 64 KiB on a ppc64 pseries kernel by default
 * ({@code default PPC_64K_PAGES if PPC_BOOK3S_64}, arch/powerpc/Kconfig), 4 KiB as the other choice; a page
 * number here is a guest physical address shifted right by {@link #pageShift()}.
 *
 * <p>Reuse order: Linux serves order-0 allocations from per-CPU page lists ("pcp" lists, mm/page_alloc.c):
 * {@code free_unref_page_commit()} puts a freed page at the <em>head</em> of the freeing CPU's list
 * ({@code list_add}) and {@code __rmqueue_pcplist()} takes an allocation from the head of the allocating CPU's list
 * ({@code list_first_entry}): on one CPU the most recently freed page is the next one handed out (LIFO), and a
 * page freed on another CPU is not seen until that CPU allocates. Modelling choices (not kernel facts): the
 * per-CPU lists have no {@code high}/{@code batch} limits (no drain to and no bulk refill from the buddy lists),
 * and when a CPU's list is empty the page comes from one shared pool of never-used pages, lowest first.
 *
 * <p>Reference counts ({@code struct page}'s {@code _refcount}): {@link #alloc} returns a page with one reference,
 * {@link #get} adds one ({@code get_page}), {@link #put} drops one and frees the page when the last goes
 * ({@code put_page}), onto the list of the CPU that dropped it. A page-fragment allocator holds one reference for
 * itself and one per fragment handed out ({@link PageFrag}), so a page cut into receive buffers is freed only when
 * every buffer is consumed and the allocator has moved on.
 *
 * <p>Guest bugs are reported, not thrown: {@link #put} of a page that is not allocated (a double free) or not in
 * range returns {@code false}, changes nothing and is counted in {@link #badFrees()}; {@link #alloc} returns
 * {@link #NO_PAGE} when memory is exhausted. Only programming errors of the caller (a null tag, a non-positive
 * size) throw.
 *
 * <p>Each page carries an owner tag ({@link PageUse}) and a generation counter, incremented at each allocation, so
 * the corruption oracle can tell an access meant for an earlier incarnation of the page from one meant for the
 * current one. Storage: primitive arrays, no object per page.
 */
public final class PageAllocator implements tcesim.state.Snapshot {

    /** Returned by {@link #alloc()} when no page is free (the guest's out-of-memory). */
    public static final long NO_PAGE = -1L;

    private final long firstPfn;
    private final int capacity;
    private final int pageShift;
    /** Never-used pages: pool[poolTop - 1] is handed out next (the lowest). */
    private final int[] pool;
    private int poolTop;
    /** Per CPU, its free list: pcp[c][pcpTop[c] - 1] is the most recently freed page, handed out next. */
    private final int[][] pcp;
    private final int[] pcpTop;
    /** PageUse ordinal per page; FREE for free pages. */
    private final byte[] use;
    /** Reference count per page (0 when free). */
    private final int[] refs;
    /** Number of times each page has been allocated. */
    private final int[] generation;
    /** Pages [0, touched) may have left the pool; the rest are as at boot (free, untagged). */
    private int touched;
    private long badFrees;

    /** 4 KiB pages, one CPU. */
    public PageAllocator(long firstPfn, int nrPages) {
        this(firstPfn, nrPages, 12, 1);
    }

    /**
     * @param firstPfn first page number managed (inclusive), &ge; 0, in units of the page size
     * @param nrPages  number of pages managed, &gt; 0
     * @param pageShift log2 of the page size: 12 (4 KiB) or 16 (64 KiB)
     * @param cpus the CPUs, each with its own free list
     */
    public PageAllocator(long firstPfn, int nrPages, int pageShift, int cpus) {
        if (firstPfn < 0) throw new IllegalArgumentException("firstPfn < 0: " + firstPfn);
        if (nrPages <= 0) throw new IllegalArgumentException("nrPages must be > 0: " + nrPages);
        if (pageShift != 12 && pageShift != 16) throw new IllegalArgumentException("page shift must be 12 or 16: " + pageShift);
        if (cpus < 1) throw new IllegalArgumentException("cpus must be >= 1: " + cpus);
        this.firstPfn = firstPfn;
        this.capacity = nrPages;
        this.pageShift = pageShift;
        this.use = new byte[nrPages];
        this.refs = new int[nrPages];
        this.generation = new int[nrPages];
        this.pool = new int[nrPages];
        for (int i = 0; i < nrPages; i++) pool[i] = nrPages - 1 - i;
        this.poolTop = nrPages;
        this.pcp = new int[cpus][4];
        this.pcpTop = new int[cpus];
    }

    /** log2 of the guest's page size. */
    public int pageShift() { return pageShift; }
    public int pageSize() { return 1 << pageShift; }
    /** The guest physical address of page {@code pfn}. */
    public long gpa(long pfn) { return pfn << pageShift; }
    /** The page that holds guest physical address {@code gpa}. */
    public long pageOf(long gpa) { return gpa >>> pageShift; }
    public int cpus() { return pcp.length; }

    /** Allocates a page for {@link PageUse#KERNEL} use on CPU 0. */
    public long alloc() {
        return alloc(0, PageUse.KERNEL);
    }

    /** Allocates a page on CPU 0. */
    public long alloc(PageUse tag) {
        return alloc(0, tag);
    }

    /**
     * Allocates the page most recently freed on {@code cpu}, else the lowest never-used one, with one reference.
     *
     * @param tag what the page is for; must not be {@link PageUse#FREE}
     * @return the page number, or {@link #NO_PAGE} if none is free
     */
    public long alloc(int cpu, PageUse tag) {
        checkTag(tag);
        int c = Math.floorMod(cpu, pcp.length);
        int idx;
        if (pcpTop[c] > 0) {
            idx = pcp[c][--pcpTop[c]];
        } else {
            // The CPU's list is empty: the first page of another CPU's list would come back through the buddy lists only
            // after a drain, which is not modelled; take a never-used page, else the oldest... of any list.
            if (poolTop > 0) {
                idx = pool[--poolTop];
                touched = Math.max(touched, idx + 1);
            } else {
                int other = -1;
                for (int o = 0; o < pcp.length; o++) if (pcpTop[o] > 0) { other = o; break; }
                if (other < 0) return NO_PAGE;
                idx = pcp[other][--pcpTop[other]];
            }
        }
        use[idx] = (byte) tag.ordinal();
        refs[idx] = 1;
        generation[idx]++;
        return firstPfn + idx;
    }

    /** {@code get_page}: one more reference to an allocated page; false (nothing changed) if it is not allocated. */
    public boolean get(long pfn) {
        if (!isAllocated(pfn)) return false;
        refs[(int) (pfn - firstPfn)]++;
        return true;
    }

    /** Drops the last reference of a page on CPU 0 (the page is freed when it was the only one). */
    public boolean free(long pfn) {
        return put(pfn, 0);
    }

    /**
     * {@code put_page} on {@code cpu}: drops one reference; the last frees the page onto {@code cpu}'s list.
     *
     * @return {@code true} if accepted; {@code false} (nothing changed, counted in {@link #badFrees()}) if the page is
     *     outside the range or already free
     */
    public boolean put(long pfn, int cpu) {
        if (!contains(pfn)) {
            badFrees++;
            return false;
        }
        int idx = (int) (pfn - firstPfn);
        if (use[idx] == PageUse.FREE.ordinal()) {
            badFrees++;
            return false;
        }
        if (--refs[idx] > 0) return true;
        use[idx] = (byte) PageUse.FREE.ordinal();
        int c = Math.floorMod(cpu, pcp.length);
        if (pcpTop[c] == pcp[c].length) pcp[c] = Arrays.copyOf(pcp[c], pcpTop[c] * 2);
        pcp[c][pcpTop[c]++] = idx;
        return true;
    }

    /** The page's reference count (0 when free). */
    public int refCount(long pfn) {
        checkRange(pfn);
        return refs[(int) (pfn - firstPfn)];
    }

    /**
     * Re-tags an allocated page (e.g. a buffer whose DMA mapping was torn down but that the driver keeps for other
     * data). Does not change the generation.
     *
     * @return {@code false} if the page is out of range or free
     */
    public boolean setUse(long pfn, PageUse tag) {
        checkTag(tag);
        if (!isAllocated(pfn)) return false;
        use[(int) (pfn - firstPfn)] = (byte) tag.ordinal();
        return true;
    }

    /** Whether the page is in range and currently allocated. */
    public boolean isAllocated(long pfn) {
        return contains(pfn) && use[(int) (pfn - firstPfn)] != PageUse.FREE.ordinal();
    }

    /** Owner tag of the page; {@link PageUse#FREE} for a free page. */
    public PageUse use(long pfn) {
        checkRange(pfn);
        return PageUse.ofOrdinal(use[(int) (pfn - firstPfn)]);
    }

    /**
     * How many times the page has been allocated (0: never). An access recorded with an older generation than the
     * current one is an access to a previous incarnation of the page.
     */
    public int generation(long pfn) {
        checkRange(pfn);
        return generation[(int) (pfn - firstPfn)];
    }

    /** Whether the page number is managed by this allocator. */
    public boolean contains(long pfn) {
        return pfn >= firstPfn && pfn - firstPfn < capacity;
    }

    public long firstPfn() { return firstPfn; }
    public int capacity() { return capacity; }

    public int freeCount() {
        int n = poolTop;
        for (int t : pcpTop) n += t;
        return n;
    }

    public int allocatedCount() { return capacity - freeCount(); }

    /** Number of rejected frees (double free, out of range) so far: guest bugs. */
    public long badFrees() { return badFrees; }

    private void checkRange(long pfn) {
        if (!contains(pfn)) throw new IndexOutOfBoundsException("page " + pfn + " outside [" + firstPfn + ", " + (firstPfn + capacity) + ")");
    }

    private static void checkTag(PageUse tag) {
        if (Objects.requireNonNull(tag, "tag") == PageUse.FREE) throw new IllegalArgumentException("cannot allocate a page as FREE");
    }

    /**
     * Which pages are free and in which order each CPU will get them, and the tags and reference counts of the pages
     * in use. Only pages below the highest ever taken from the pool are written: the rest are still as at boot, so
     * the state costs O(pages in play), not O(guest RAM). Generations and counters are left out: they feed reports,
     * not behaviour.
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(poolTop, touched);
        for (int c = 0; c < pcp.length; c++) {
            out.put(pcpTop[c]);
            for (int i = 0; i < pcpTop[c]; i++) out.put(pcp[c][i]);
        }
        for (int idx = 0; idx < touched; idx++) if (use[idx] != PageUse.FREE.ordinal()) out.put(((long) idx << 32) | ((long) refs[idx] << 8) | use[idx]);
        out.put(-1);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        int oldTouched = touched;
        poolTop = in.nextInt();
        touched = in.nextInt();
        // The pool below its top is the boot order; pages at or above the larger touched mark were never taken.
        for (int i = 0; i < poolTop; i++) {
            if (pool[i] != capacity - 1 - i) pool[i] = capacity - 1 - i;
            else if (capacity - 1 - i >= Math.max(oldTouched, touched)) break;
        }
        for (int c = 0; c < pcp.length; c++) {
            int n = in.nextInt();
            if (pcp[c].length < n) pcp[c] = new int[Math.max(n, pcp[c].length * 2)];
            pcpTop[c] = n;
            for (int i = 0; i < n; i++) pcp[c][i] = in.nextInt();
        }
        int dirty = Math.max(oldTouched, touched);
        Arrays.fill(use, 0, dirty, (byte) PageUse.FREE.ordinal());
        Arrays.fill(refs, 0, dirty, 0);
        for (long w = in.next(); w >= 0; w = in.next()) {
            int idx = (int) (w >>> 32);
            use[idx] = (byte) (w & 0xff);
            refs[idx] = (int) ((w >>> 8) & 0xffffff);
        }
    }
}
