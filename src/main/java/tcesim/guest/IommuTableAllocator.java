package tcesim.guest;

/**
 * The IOVA (TCE entry) allocator of a Linux powerpc guest: the bitmap allocator of
 * {@code struct iommu_table} in arch/powerpc/kernel/iommu.c ({@code iommu_init_table},
 * {@code iommu_range_alloc}, {@code __iommu_free}) with lib/iommu-helper.c
 * ({@code iommu_area_alloc}).
 *
 * <p>Entry numbers in this API are absolute TCE indices (bus address &gt;&gt; page shift), i.e.
 * they include {@code it_offset}, like the {@code entry} that {@code iommu_alloc()} turns into a
 * DMA address. Internally, as in the kernel, the bitmap and the pools are relative to
 * {@code it_offset}.
 *
 * <p>Rules modelled (each from the kernel source named):
 * <ul>
 * <li>Pools ({@code iommu_init_table}): the table is split into {@code IOMMU_NR_POOLS} = 4 pools
 *     ({@code 1 << IOMMU_POOL_HASHBITS}, asm/iommu.h) only if it covers at least 1 GiB
 *     ({@code it_size << it_page_shift >= 1 GiB}), else 1 pool. The top quarter is the large pool:
 *     {@code poolsize = (it_size * 3 / 4) / nr_pools}, pool i = [poolsize*i, poolsize*(i+1)),
 *     large pool = [poolsize*nr_pools, it_size). All hints start at the pool start.</li>
 * <li>Pool choice ({@code setup_iommu_pool_hash}, {@code iommu_range_alloc}): per-CPU
 *     {@code hash_32(cpu, IOMMU_POOL_HASHBITS) & (nr_pools - 1)}; hash_32 is
 *     {@code (cpu * 0x61C88647) >> (32 - bits)} (include/linux/hash.h, GOLDEN_RATIO_32). Here the
 *     cpu is an explicit argument.</li>
 * <li>Allocations of more than 15 pages ({@code largealloc = npages > 15}) start in the large
 *     pool.</li>
 * <li>Search ({@code iommu_range_alloc}): from the pool's hint (or its start if the hint is at or
 *     past the pool end) up to the pool end; first fit, aligned to {@code 1 << align_order}
 *     entries relative to the table start (bitmap index, not the absolute entry), not crossing
 *     the device's segment boundary ({@code iommu_is_span_boundary} with shift = it_offset).
 *     {@code iommu_area_alloc} does {@code size -= 1} ("We don't want the last of the limit"), so
 *     the last entry of each pool is never handed out by a search of that pool.</li>
 * <li>On failure, passes ({@code iommu_range_alloc}, label {@code again}): pass 0 fails &rarr; reset
 *     this pool's hint to its start and search it again from the start; then the next pools in
 *     turn ({@code pool_nr + 1} modulo nr_pools, each one's hint reset to its start), nr_pools of
 *     them (so the starting pool once more at the end for a small allocation); then, last resort,
 *     the large pool with its hint reset; then give up ({@code DMA_MAPPING_ERROR}).</li>
 * <li>Hint after success ({@code iommu_range_alloc}): large allocation &rarr; hint = end of the
 *     allocation; small &rarr; end rounded up to {@code it_blocksize}, which pseries sets to 16
 *     (platforms/pseries/iommu.c {@code iommu_table_setparms_common}; also powernv
 *     {@code pnv_pci_setup_iommu_table}). The hint of whichever pool the allocation came from is
 *     bumped. Hence with 1-page maps/unmaps a freed entry is reused only when the hint wraps,
 *     after about poolsize / 16 allocations from that pool.</li>
 * <li>Reservation ({@code iommu_table_reserve_pages}): entry 0 is reserved when
 *     {@code it_offset == 0} ("This avoids buggy drivers that consider page 0 to be invalid"); an
 *     optional reserved range [res_start, res_end), clamped to the table, is reserved too
 *     (powernv passes the 32-bit MMIO hole; pseries passes none).</li>
 * <li>Free ({@code __iommu_free}, {@code iommu_free_check}): a range outside the table is refused
 *     (the kernel WARNs and does nothing); otherwise the bits are cleared. Freeing does not touch
 *     any hint.</li>
 * </ul>
 *
 * <p>Not modelled: the device DMA mask clamp of {@code limit} (the model assumes the mask covers
 * the whole window, true for virtio's 64-bit mask), the scatter-gather {@code handle} that lets
 * {@code ppc_iommu_map_sg} continue right after the previous segment, fault injection, locking.
 * Differences by choice: {@link #free(long, int)} also refuses a range with an entry that is not
 * allocated or is reserved (the kernel would silently clear it), returning {@code false} with
 * nothing changed, counted in {@link #badFrees()}.
 */
public final class IommuTableAllocator implements tcesim.state.Snapshot {

    /** Returned by {@link #alloc} when no range fits (the kernel's DMA_MAPPING_ERROR). */
    public static final long DMA_MAPPING_ERROR = -1L;
    /** asm/iommu.h. */
    public static final int IOMMU_POOL_HASHBITS = 2;
    /** asm/iommu.h: {@code 1 << IOMMU_POOL_HASHBITS}. */
    public static final int IOMMU_NR_POOLS = 1 << IOMMU_POOL_HASHBITS;
    /** iommu_range_alloc: {@code largealloc = npages > 15}. */
    public static final int LARGE_ALLOC_THRESHOLD = 15;
    /** pseries/powernv {@code it_blocksize}. */
    public static final int DEFAULT_BLOCKSIZE = 16;
    /** iommu_init_table: split into pools only for tables covering at least 1 GiB. */
    public static final long POOL_SPLIT_MIN_BYTES = 1L << 30;

    private final long itOffset;
    private final long itSize;
    private final int pageShift;
    private final long blockSize;
    private final long boundary; // segment boundary in entries, power of two
    private final int nrPools;
    private final long poolSize;
    /** Relative pool bounds and hints; index nrPools is the large pool. */
    private final long[] poolStart;
    private final long[] poolEnd;
    private final long[] poolHint;
    private final long[] map;
    /** Relative reserved range [resStart, resEnd) (empty when equal) and entry 0 flag. */
    private final long resStart;
    private final long resEnd;
    private final boolean entry0Reserved;
    private long allocated;
    private long wraps;
    private long badFrees;

    /**
     * A pseries table: blocksize 16, no reserved range (besides entry 0 when it_offset is 0), the
     * PCI default segment boundary (4 GiB, drivers/pci/probe.c {@code pci_device_add}:
     * {@code dma_set_seg_boundary(&dev->dev, 0xffffffff)}).
     *
     * @param itOffset  first entry of the window (bus address &gt;&gt; pageShift)
     * @param itSize    number of entries
     * @param pageShift IOMMU page shift (12 = 4 KiB)
     */
    public IommuTableAllocator(long itOffset, long itSize, int pageShift) {
        this(itOffset, itSize, pageShift, DEFAULT_BLOCKSIZE, 0, 0,
                pciSegBoundaryEntries(pageShift));
    }

    /**
     * @param blockSize     {@code it_blocksize}, a power of two
     * @param reservedStart absolute first reserved entry (inclusive); reservedStart &ge;
     *                      reservedEnd means none
     * @param reservedEnd   absolute end of the reserved range (exclusive)
     * @param segBoundary   segment boundary in entries ({@code dma_get_seg_boundary_nr_pages}),
     *                      a power of two
     */
    public IommuTableAllocator(long itOffset, long itSize, int pageShift, int blockSize,
            long reservedStart, long reservedEnd, long segBoundary) {
        if (itOffset < 0 || itSize <= 1) {
            throw new IllegalArgumentException("bad table: offset " + itOffset + " size " + itSize);
        }
        if (pageShift < 12 || pageShift > 40) {
            throw new IllegalArgumentException("bad page shift " + pageShift);
        }
        if (blockSize <= 0 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("blockSize must be a power of two: " + blockSize);
        }
        if (segBoundary <= 0 || Long.bitCount(segBoundary) != 1) {
            throw new IllegalArgumentException("segBoundary must be a power of two: " + segBoundary);
        }
        long words = (itSize + 63) >>> 6;
        if (words > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("table too large for the model: " + itSize);
        }
        this.itOffset = itOffset;
        this.itSize = itSize;
        this.pageShift = pageShift;
        this.blockSize = blockSize;
        this.boundary = segBoundary;
        this.map = new long[(int) words];

        // iommu_init_table: split only if the table covers >= 1 GiB.
        this.nrPools = bigEnough(itSize, pageShift) ? IOMMU_NR_POOLS : 1;
        // "We reserve the top 1/4 of the table for large allocations"
        this.poolSize = (itSize * 3 / 4) / nrPools;
        this.poolStart = new long[nrPools + 1];
        this.poolEnd = new long[nrPools + 1];
        this.poolHint = new long[nrPools + 1];
        for (int i = 0; i < nrPools; i++) {
            poolStart[i] = poolSize * i;
            poolEnd[i] = poolStart[i] + poolSize;
            poolHint[i] = poolStart[i];
        }
        poolStart[nrPools] = poolSize * nrPools;
        poolEnd[nrPools] = itSize;
        poolHint[nrPools] = poolStart[nrPools];

        // iommu_table_reserve_pages
        this.entry0Reserved = itOffset == 0;
        if (entry0Reserved) {
            setBit(0);
        }
        long rs = Math.max(reservedStart, itOffset);
        long re = Math.min(reservedEnd, itOffset + itSize);
        if (rs < re) {
            this.resStart = rs - itOffset;
            this.resEnd = re - itOffset;
            setRange(resStart, resEnd);
        } else {
            this.resStart = 0;
            this.resEnd = 0;
        }
    }

    private static boolean bigEnough(long itSize, int pageShift) {
        // itSize << pageShift >= 1 GiB, computed without overflow
        return pageShift >= 30 || itSize >= (POOL_SPLIT_MIN_BYTES >>> pageShift);
    }

    /** {@code dma_get_seg_boundary_nr_pages} for a PCI device (boundary mask 0xffffffff). */
    public static long pciSegBoundaryEntries(int pageShift) {
        return (0xffffffffL >>> pageShift) + 1;
    }

    /** {@code hash_32(cpu, IOMMU_POOL_HASHBITS)}: the per-CPU pool hash before masking. */
    public static int cpuPoolHash(int cpu) {
        return (cpu * 0x61C88647) >>> (32 - IOMMU_POOL_HASHBITS);
    }

    /** The pool a small allocation made on {@code cpu} starts in. */
    public int poolForCpu(int cpu) {
        return cpuPoolHash(cpu) & (nrPools - 1);
    }

    /**
     * Allocates {@code npages} consecutive entries, as {@code iommu_range_alloc} does for
     * {@code dma_map_page} / {@code dma_alloc_coherent} on the given CPU.
     *
     * @param cpu        the CPU the kernel runs on (selects the pool), &ge; 0
     * @param npages     number of entries, &gt; 0 (0 is refused with DMA_MAPPING_ERROR, as the
     *                   kernel does after a WARN)
     * @param alignOrder the range starts at a multiple of {@code 1 << alignOrder} (table-relative)
     * @return the first absolute entry, or {@link #DMA_MAPPING_ERROR}
     */
    public long alloc(int cpu, int npages, int alignOrder) {
        if (cpu < 0) {
            throw new IllegalArgumentException("cpu < 0: " + cpu);
        }
        if (alignOrder < 0 || alignOrder > 62) {
            throw new IllegalArgumentException("bad alignOrder " + alignOrder);
        }
        if (npages <= 0) {
            return DMA_MAPPING_ERROR;
        }
        long alignMask = (1L << alignOrder) - 1;
        boolean large = npages > LARGE_ALLOC_THRESHOLD;
        int poolNr = poolForCpu(cpu);
        int pool = large ? nrPools : poolNr;
        int pass = 0;
        boolean wrapped = false;
        long n;
        while (true) {
            long start = poolHint[pool];
            long limit = poolEnd[pool];
            if (start >= limit) {
                // "go back to the initial start"
                start = poolStart[pool];
                wrapped |= pass == 0;
            }
            n = areaAlloc(start, limit, npages, alignMask);
            if (n >= 0) {
                break;
            }
            if (pass == 0) {
                // First try the pool from the start
                wrapped = true;
                poolHint[pool] = poolStart[pool];
            } else if (pass <= nrPools) {
                // Now try scanning all the other pools
                poolNr = (poolNr + 1) & (nrPools - 1);
                pool = poolNr;
                poolHint[pool] = poolStart[pool];
            } else if (pass == nrPools + 1) {
                // Last resort: the large pool
                pool = nrPools;
                poolHint[pool] = poolStart[pool];
            } else {
                wraps += wrapped ? 1 : 0;
                return DMA_MAPPING_ERROR;
            }
            pass++;
        }
        wraps += wrapped ? 1 : 0;
        long end = n + npages;
        if (large) {
            poolHint[pool] = end; // "Don't bump to new block to avoid fragmentation"
        } else {
            poolHint[pool] = (end + blockSize - 1) & ~(blockSize - 1);
        }
        allocated += npages;
        return n + itOffset;
    }

    /**
     * First fit in [start, limit - 1) as {@code iommu_area_alloc} (which drops the last entry of
     * the limit); marks the range allocated. Returns the relative index or -1.
     */
    private long areaAlloc(long start, long limit, int nr, long alignMask) {
        long size = limit - 1;
        while (true) {
            long index = nextClearBit(start, size);
            index = (index + alignMask) & ~alignMask;
            long end = index + nr;
            if (end > size) {
                return -1;
            }
            long busy = nextSetBit(index, end);
            if (busy < end) {
                start = busy + 1;
                continue;
            }
            // iommu_is_span_boundary(index, nr, shift = it_offset, boundary)
            long off = (itOffset + index) & (boundary - 1);
            if (off + nr > boundary) {
                long next = ((itOffset + index + boundary - 1) & ~(boundary - 1)) - itOffset;
                start = Math.max(next, index + 1);
                continue;
            }
            setRange(index, end);
            return index;
        }
    }

    /**
     * Releases {@code npages} entries starting at absolute {@code entry}. Hints are untouched.
     *
     * @return {@code true} if released; {@code false} (nothing changed, counted in
     *     {@link #badFrees()}) if the range is outside the table (the kernel's
     *     {@code iommu_free_check} refusal) or holds an entry that is free or reserved (a guest
     *     bug the kernel would not notice)
     */
    public boolean free(long entry, int npages) {
        long rel = entry - itOffset;
        if (npages <= 0 || entry < itOffset || rel + npages > itSize) {
            badFrees++;
            return false;
        }
        long end = rel + npages;
        if (nextClearBit(rel, end) < end || overlapsReserved(rel, end)) {
            badFrees++;
            return false;
        }
        clearRange(rel, end);
        allocated -= npages;
        return true;
    }

    /** Whether the absolute entry is currently handed out by {@link #alloc} (reserved: no). */
    public boolean isAllocated(long entry) {
        long rel = entry - itOffset;
        if (entry < itOffset || rel >= itSize) {
            return false;
        }
        return testBit(rel) && !isReservedRel(rel);
    }

    /** Whether the absolute entry is reserved at init (entry 0 when it_offset is 0, the range). */
    public boolean isReserved(long entry) {
        long rel = entry - itOffset;
        return entry >= itOffset && rel < itSize && isReservedRel(rel);
    }

    private boolean isReservedRel(long rel) {
        return (entry0Reserved && rel == 0) || (rel >= resStart && rel < resEnd);
    }

    private boolean overlapsReserved(long from, long to) {
        return (entry0Reserved && from == 0) || (from < resEnd && resStart < to);
    }

    /**
     * The pool an absolute entry belongs to ({@code get_pool}): 0..nrPools()-1, or
     * {@link #largePool()}.
     */
    public int poolOf(long entry) {
        long rel = entry - itOffset;
        if (entry < itOffset || rel >= itSize) {
            throw new IndexOutOfBoundsException("entry " + entry);
        }
        return rel >= poolStart[nrPools] ? nrPools : (int) (rel / poolSize);
    }

    /** Index of the large pool in the pool accessors: {@code nrPools()}. */
    public int largePool() {
        return nrPools;
    }

    /** Number of ordinary pools (4 or 1). */
    public int nrPools() {
        return nrPools;
    }

    /** Entries in each ordinary pool. */
    public long poolSize() {
        return poolSize;
    }

    /** Absolute first entry of a pool (0..nrPools()-1, or largePool()). */
    public long poolStart(int pool) {
        return poolStart[pool] + itOffset;
    }

    /** Absolute end (exclusive) of a pool. */
    public long poolEnd(int pool) {
        return poolEnd[pool] + itOffset;
    }

    /** Absolute current hint of a pool (may be at or past the pool end: wraps at next alloc). */
    public long poolHint(int pool) {
        return poolHint[pool] + itOffset;
    }

    public long itOffset() {
        return itOffset;
    }

    public long itSize() {
        return itSize;
    }

    public int pageShift() {
        return pageShift;
    }

    public int blockSize() {
        return (int) blockSize;
    }

    /** Entries currently handed out (reserved entries not counted). */
    public long allocatedCount() {
        return allocated;
    }

    /**
     * How many allocations restarted their search from the start of their first pool, because the
     * hint was at or past the pool end or because the search from the hint failed (pass 0).
     */
    public long wrapCount() {
        return wraps;
    }

    /** Rejected frees so far (guest bugs). */
    public long badFrees() {
        return badFrees;
    }

    // ---- bitmap over long[] (bit i of word i >> 6) ----

    private boolean testBit(long i) {
        return (map[(int) (i >>> 6)] & (1L << i)) != 0;
    }

    private void setBit(long i) {
        map[(int) (i >>> 6)] |= 1L << i;
    }

    /** First clear bit in [from, to), or {@code to} if none (also if from &ge; to). */
    private long nextClearBit(long from, long to) {
        if (from >= to) {
            return to;
        }
        int w = (int) (from >>> 6);
        long word = ~map[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                long i = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return Math.min(i, to);
            }
            if (((long) (w + 1) << 6) >= to) {
                return to;
            }
            word = ~map[++w];
        }
    }

    /** First set bit in [from, to), or {@code to} if none. */
    private long nextSetBit(long from, long to) {
        if (from >= to) {
            return to;
        }
        int w = (int) (from >>> 6);
        long word = map[w] & (-1L << from);
        while (true) {
            if (word != 0) {
                long i = ((long) w << 6) + Long.numberOfTrailingZeros(word);
                return Math.min(i, to);
            }
            if (((long) (w + 1) << 6) >= to) {
                return to;
            }
            word = map[++w];
        }
    }

    private void setRange(long from, long to) {
        for (long i = from; i < to; ) {
            int w = (int) (i >>> 6);
            long wordEnd = Math.min(to, ((long) w + 1) << 6);
            map[w] |= rangeMask(i, wordEnd);
            i = wordEnd;
        }
    }

    private void clearRange(long from, long to) {
        for (long i = from; i < to; ) {
            int w = (int) (i >>> 6);
            long wordEnd = Math.min(to, ((long) w + 1) << 6);
            map[w] &= ~rangeMask(i, wordEnd);
            i = wordEnd;
        }
    }

    /** Bits [from, to) of the word containing from; to - from in 1..64, same word. */
    private static long rangeMask(long from, long to) {
        int n = (int) (to - from);
        long ones = n == 64 ? -1L : (1L << n) - 1;
        return ones << from;
    }

    /** The allocation state: the bitmap's non-zero words and the pool hints (the entry count follows from the bitmap). */
    @Override
    public void save(tcesim.state.StateWriter out) {
        for (int i = 0; i < map.length; i++) if (map[i] != 0) out.put(i, map[i]);
        out.put(-1);
        for (long hint : poolHint) out.put(hint);
        out.put(allocated);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        java.util.Arrays.fill(map, 0);
        for (long i = in.next(); i >= 0; i = in.next()) map[(int) i] = in.next();
        for (int p = 0; p < poolHint.length; p++) poolHint[p] = in.next();
        allocated = in.next();
    }
}
