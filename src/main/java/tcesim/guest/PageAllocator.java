package tcesim.guest;

import java.util.Objects;

/**
 * Guest page frame allocator over a contiguous range of guest physical page frame numbers
 * (4 KiB pages).
 *
 * <p>Models the reuse order of the Linux page allocator's per-CPU page lists ("pcp" lists,
 * mm/page_alloc.c), which serve order-0 allocations: {@code free_unref_page_commit()} puts a freed
 * page at the <em>head</em> of the list ({@code list_add(&page->pcp_list, &pcp->lists[pindex])})
 * and {@code __rmqueue_pcplist()} takes the allocation from the <em>head</em>
 * ({@code list_first_entry(list, struct page, pcp_list)}): the most recently freed page is the next
 * one handed out (LIFO). Modelling simplifications (choices, not kernel facts): one list for the
 * whole guest (no per-CPU lists, no migrate types, no batch refill from / drain to the buddy
 * lists), so the LIFO order holds exactly; the initial free list hands out the lowest PFN first.
 *
 * <p>Guest bugs are reported, not thrown: {@link #free(long)} of a page that is not allocated
 * (double free) or not in range returns {@code false}, changes nothing and is counted in
 * {@link #badFrees()}; {@link #alloc()} returns {@link #NO_PAGE} when memory is exhausted.
 * Only programming errors of the caller (a null tag, a non-positive size) throw.
 *
 * <p>Each page carries an owner tag ({@link PageUse}) and a generation counter, incremented at each
 * allocation, so the corruption oracle can tell an access meant for an earlier incarnation of the
 * page (stale) from one meant for the current one. Storage: primitive arrays, no object per page.
 */
public final class PageAllocator implements tcesim.state.Snapshot {

    /** Returned by {@link #alloc()} when no page is free (the guest's out-of-memory). */
    public static final long NO_PAGE = -1L;

    private final long firstPfn;
    private final int capacity;
    /** Stack of free page indices (relative to firstPfn); freeStack[freeTop - 1] is handed out next. */
    private final int[] freeStack;
    private int freeTop;
    /** The free stack as it was at boot (shared by allocators of a size). */
    private final int[] initialStack;
    /**
     * freeStack[0..pristine) equals initialStack[0..pristine): the pages below have never been handed out or have
     * come back in boot order. Only the rest of the stack, and the tags of pages outside the pristine part, make
     * up the saved state: O(pages in play), not O(guest RAM).
     */
    private int pristine;
    /** PageUse ordinal per page; FREE for free pages. */
    private final byte[] use;
    /** Number of times each page has been allocated. */
    private final int[] generation;
    private long badFrees;

    /**
     * @param firstPfn first guest page frame number managed (inclusive), &ge; 0
     * @param nrPages  number of 4 KiB pages managed, &gt; 0
     */
    public PageAllocator(long firstPfn, int nrPages) {
        if (firstPfn < 0) {
            throw new IllegalArgumentException("firstPfn < 0: " + firstPfn);
        }
        if (nrPages <= 0) {
            throw new IllegalArgumentException("nrPages must be > 0: " + nrPages);
        }
        this.firstPfn = firstPfn;
        this.capacity = nrPages;
        this.use = new byte[nrPages];
        this.generation = new int[nrPages];
        // Push the highest page first so that the very first allocation returns firstPfn.
        this.initialStack = initial(nrPages);
        this.freeStack = initialStack.clone();
        this.freeTop = nrPages;
        this.pristine = nrPages;
    }

    private static final java.util.concurrent.ConcurrentHashMap<Integer, int[]> INITIAL = new java.util.concurrent.ConcurrentHashMap<>();

    /** The boot-time free stack (highest page at the bottom, page 0 on top), built once per size; never modified. */
    private static int[] initial(int nrPages) {
        return INITIAL.computeIfAbsent(nrPages, n -> {
            int[] stack = new int[n];
            for (int i = 0; i < n; i++) stack[i] = n - 1 - i;
            return stack;
        });
    }

    /** Allocates a page for {@link PageUse#KERNEL} use. */
    public long alloc() {
        return alloc(PageUse.KERNEL);
    }

    /**
     * Allocates the most recently freed page (or the next never-used one) and tags it.
     *
     * @param tag what the page is for; must not be {@link PageUse#FREE}
     * @return the PFN, or {@link #NO_PAGE} if none is free
     */
    public long alloc(PageUse tag) {
        checkTag(tag);
        if (freeTop == 0) {
            return NO_PAGE;
        }
        int idx = freeStack[--freeTop];
        if (freeTop < pristine) pristine = freeTop;
        use[idx] = (byte) tag.ordinal();
        generation[idx]++;
        return firstPfn + idx;
    }

    /**
     * Returns a page to the head of the free list.
     *
     * @return {@code true} if accepted; {@code false} (nothing changed, counted in
     *     {@link #badFrees()}) if the PFN is outside the range or the page is already free
     */
    public boolean free(long pfn) {
        if (!contains(pfn)) {
            badFrees++;
            return false;
        }
        int idx = (int) (pfn - firstPfn);
        if (use[idx] == PageUse.FREE.ordinal()) {
            badFrees++;
            return false;
        }
        use[idx] = (byte) PageUse.FREE.ordinal();
        if (freeTop == pristine && initialStack[freeTop] == idx) pristine++;
        freeStack[freeTop++] = idx;
        return true;
    }

    /**
     * Re-tags an allocated page (e.g. a buffer whose DMA mapping was torn down but that the driver
     * keeps for other data). Does not change the generation.
     *
     * @return {@code false} if the page is out of range or free
     */
    public boolean setUse(long pfn, PageUse tag) {
        checkTag(tag);
        if (!isAllocated(pfn)) {
            return false;
        }
        use[(int) (pfn - firstPfn)] = (byte) tag.ordinal();
        return true;
    }

    /** Whether the PFN is in range and currently allocated. */
    public boolean isAllocated(long pfn) {
        return contains(pfn) && use[(int) (pfn - firstPfn)] != PageUse.FREE.ordinal();
    }

    /** Owner tag of the page; {@link PageUse#FREE} for a free page. */
    public PageUse use(long pfn) {
        checkRange(pfn);
        return PageUse.ofOrdinal(use[(int) (pfn - firstPfn)]);
    }

    /**
     * How many times the page has been allocated (0: never). An access recorded with an older
     * generation than the current one is an access to a previous incarnation of the page.
     */
    public int generation(long pfn) {
        checkRange(pfn);
        return generation[(int) (pfn - firstPfn)];
    }

    /** Whether the PFN is managed by this allocator. */
    public boolean contains(long pfn) {
        return pfn >= firstPfn && pfn - firstPfn < capacity;
    }

    public long firstPfn() {
        return firstPfn;
    }

    public int capacity() {
        return capacity;
    }

    public int freeCount() {
        return freeTop;
    }

    public int allocatedCount() {
        return capacity - freeTop;
    }

    /** Number of rejected frees (double free, out of range) so far: guest bugs. */
    public long badFrees() {
        return badFrees;
    }

    private void checkRange(long pfn) {
        if (!contains(pfn)) {
            throw new IndexOutOfBoundsException("pfn " + pfn + " outside [" + firstPfn + ", "
                    + (firstPfn + capacity) + ")");
        }
    }

    private static void checkTag(PageUse tag) {
        if (Objects.requireNonNull(tag, "tag") == PageUse.FREE) {
            throw new IllegalArgumentException("cannot allocate a page as FREE");
        }
    }

    /**
     * Which pages are free and in which order they will be handed out, and the tags of the pages in use.
     * Generations and counters are left out: they feed reports, not behaviour.
     */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(freeTop, pristine);
        for (int i = pristine; i < freeTop; i++) out.put(freeStack[i]);
        int dirty = capacity - pristine;
        for (int idx = 0; idx < dirty; idx++) if (use[idx] != PageUse.FREE.ordinal()) out.put(((long) idx << 8) | use[idx]);
        out.put(-1);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        int oldPristine = pristine;
        freeTop = in.nextInt();
        pristine = in.nextInt();
        // Below both pristine marks the stack already equals the boot stack.
        if (oldPristine < pristine) System.arraycopy(initialStack, oldPristine, freeStack, oldPristine, pristine - oldPristine);
        int dirty = capacity - Math.min(oldPristine, pristine);
        for (int i = pristine; i < freeTop; i++) freeStack[i] = in.nextInt();
        java.util.Arrays.fill(use, 0, dirty, (byte) PageUse.FREE.ordinal());
        for (long w = in.next(); w >= 0; w = in.next()) use[(int) (w >>> 8)] = (byte) (w & 0xff);
    }
}
