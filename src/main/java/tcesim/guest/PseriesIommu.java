package tcesim.guest;

import static tcesim.papr.Hcall.*;

import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;

/**
 * A pseries guest's DMA mapping code for one DMA window.
 *
 * <p>Models Linux {@code arch/powerpc/kernel/iommu.c} ({@code iommu_map_page}, {@code iommu_unmap_page}:
 * allocate entries from the window's bitmap allocator, build TCEs, and on unmap clear the TCEs before
 * releasing the entries, with no deferred flush) and {@code arch/powerpc/platforms/pseries/iommu.c}
 * (the LPAR TCE builders):
 * <ul>
 * <li>map: one page, or no PUT_TCE_IND feature: H_PUT_TCE per page ({@code tce_build_pSeriesLP});
 *     several pages with the feature: H_PUT_TCE_INDIRECT with up to 512 TCEs per call from the CPU's list
 *     page ({@code tce_buildmulti_pSeriesLP});
 * <li>unmap: with STUFF_TCE, H_STUFF_TCE(ioba, 0, n) in chunks of at most 512, even for one page
 *     ({@code tce_freemulti_pSeriesLP}); else H_PUT_TCE(ioba, 0) per page ({@code tce_free_pSeriesLP}).
 * </ul>
 * What the builders do with errors is described at {@link DmaOp}: in short, a mapping fails only on
 * H_NOT_ENOUGH_RESOURCES, and clearing errors are ignored.
 *
 * <p>It also keeps what the guest has mapped for DMA right now, mapping by mapping (bus address, guest
 * address, length, direction), from the return of the map's last hypercall to the return of the unmap's:
 * the guest's intent that the corruption oracle judges device writes against. Buffers cut from one page
 * (virtio-net's receive fragments) are separate mappings, some sharing a 4 KiB TCE page's memory.
 */
public final class PseriesIommu implements tcesim.state.Snapshot {
    private final Hypervisor hv;
    private final GuestMemory mem;
    private final long liobn;
    private final IommuTableAllocator tbl;
    private final FirmwareFeatures fw;
    private final int tceShift;
    private final long[] cpuListPage;
    private long directOffset = -1;
    /**
     * The live mappings, sorted by bus address (they never overlap: each has its own TCEs): bus address, guest address,
     * and length with the direction in the low bits ({@code len << 2 | dir}). Parallel arrays, so that lookups are a
     * binary search and the saved state is already in order.
     */
    private long[] liveDma = new long[16];
    private long[] liveGpa = new long[16];
    private long[] liveLenDir = new long[16];
    private int live;

    /**
     * @param cpuListPage per CPU, the guest physical address of the 4 KiB page used as the TCE list
     */
    public PseriesIommu(Hypervisor hv, GuestMemory mem, long liobn, IommuTableAllocator tbl, FirmwareFeatures fw, long[] cpuListPage) {
        this.hv = hv;
        this.mem = mem;
        this.liobn = liobn;
        this.tbl = tbl;
        this.fw = fw;
        this.tceShift = tbl.pageShift();
        this.cpuListPage = cpuListPage.clone();
    }

    /**
     * Switches to the direct mapping of a 64-bit DDW that covers all RAM ({@code enable_ddw}: the guest maps
     * its memory once at boot, then {@code dma_map_page} returns {@code bus_offset + gpa} with no hypercall).
     */
    public void useDirectWindow(long busOffset) { this.directOffset = busOffset; }

    public boolean direct() { return directOffset >= 0; }

    /** After {@code ibm,remove-pe-dma-window}: new mappings go through the default window's TCEs again. */
    public void stopDirectWindow() { this.directOffset = -1; }

    public long liobn() { return liobn; }
    public IommuTableAllocator table() { return tbl; }
    public int tceShift() { return tceShift; }

    /** Entries covering {@code [gpa, gpa + len)}. */
    public int pagesFor(long gpa, int len) {
        long first = gpa >>> tceShift;
        long last = (gpa + Math.max(len, 1) - 1) >>> tceShift;
        return (int) (last - first + 1);
    }

    /**
     * Starts {@code dma_map_page}. Returns null when the window has no room (DMA_MAPPING_ERROR); else an op
     * whose {@link DmaOp#dmaAddr()} is the bus address of {@code gpa}.
     */
    public DmaOp map(int cpu, long gpa, int len, DmaDirection dir) {
        if (direct()) {
            record(gpa, len, directOffset + gpa, dir);
            return new DmaOp(this, DmaOp.Kind.NONE, gpa, len, dir, directOffset + gpa, -1, 0, false, 0);
        }
        int npages = pagesFor(gpa, len);
        long entry = tbl.alloc(cpu, npages, 0);
        if (entry == IommuTableAllocator.DMA_MAPPING_ERROR) return null;
        long dma = (entry << tceShift) | (gpa & ((1L << tceShift) - 1));
        boolean indirect = npages > 1 && fw.putTceIndirect();
        return new DmaOp(this, DmaOp.Kind.MAP, gpa, len, dir, dma, entry, npages, indirect, cpuListPage[cpu % cpuListPage.length]);
    }

    /**
     * A buggy (or hostile) guest's own mapping: {@code npages} TCEs for {@code gpa} from window entry {@code entry}, in one
     * multi-TCE call when it has the feature, without asking the allocator; it is recorded as mapped when the calls
     * return, whatever they answered (as Linux's builders do for any error but H_NOT_ENOUGH_RESOURCES).
     */
    public DmaOp mapAt(int cpu, long gpa, int len, DmaDirection dir, long entry, int npages) {
        long dma = (entry << tceShift) | (gpa & ((1L << tceShift) - 1));
        return new DmaOp(this, DmaOp.Kind.MAP, gpa, len, dir, dma, entry, npages, npages > 1 && fw.putTceIndirect(), cpuListPage[cpu % cpuListPage.length]);
    }

    /** Starts {@code dma_unmap_page}: clears the TCEs, then releases the entries to the allocator. */
    public DmaOp unmap(int cpu, long dmaAddr, int len) {
        if (direct() || !fw.clearOnUnmap()) {
            // A direct window has nothing to clear; a guest that does not clear hands the entries back still
            // valid, and the next map of them overwrites them.
            forget(dmaAddr, len);
            if (!direct()) tbl.free(dmaAddr >>> tceShift, pagesFor(dmaAddr, len));
            return new DmaOp(this, DmaOp.Kind.NONE, -1, len, DmaDirection.BIDIRECTIONAL, dmaAddr, -1, 0, false, 0);
        }
        return new DmaOp(this, DmaOp.Kind.UNMAP, -1, len, DmaDirection.BIDIRECTIONAL, dmaAddr, dmaAddr >>> tceShift, pagesFor(dmaAddr, len),
                fw.stuffTce(), 0);
    }

    /** The last hypercall of {@code op} has returned: record the mapping or release its entries. */
    void complete(DmaOp op) {
        switch (op.kind()) {
            case MAP -> {
                if (!op.mappingFailed()) record(op.gpa(), op.len(), op.dmaAddr(), op.dir());
                else tbl.free(op.entry(), op.npages());
            }
            case UNMAP -> {
                forget(op.dmaAddr(), op.len());
                tbl.free(op.entry(), op.npages());
                tcesCleared += op.npages();
            }
            case NONE, CLEAR_WINDOW, HOSTILE -> { }
        }
    }

    Hypervisor hypervisor() { return hv; }
    GuestMemory memory() { return mem; }

    /** Starts the clearing of another window of the device before it is removed (Linux's {@code remove_ddw}). */
    public DmaOp clearWindow(long liobn, int shift, long firstEntry, int entries) {
        return DmaOp.clearWindow(this, liobn, shift, firstEntry, entries);
    }

    /**
     * A hostile guest's call {@code h} on this layer's window ({@code entries} entries from {@code first}), made on
     * {@code cpu} (its list page), its TCEs pointing at guest page {@code ramPage} of a guest of {@code ramBytes}.
     */
    public DmaOp hostile(HostileHcall h, int cpu, long first, long entries, long ramBytes, long ramPage) {
        return DmaOp.hostile(this, h, first, entries, ramBytes, ramPage, cpuListPage[cpu % cpuListPage.length]);
    }

    /** Rebuilds an operation saved with {@code DmaOp.save} (part of a driver's saved state). */
    public DmaOp restoreOp(tcesim.state.StateReader in) {
        return DmaOp.restore(this, in);
    }

    private void record(long gpa, int len, long dma, DmaDirection dir) {
        int at = java.util.Arrays.binarySearch(liveDma, 0, live, dma);
        long w = ((long) Math.max(len, 1) << 2) | dir.ordinal();
        if (at >= 0) {
            liveGpa[at] = gpa;
            liveLenDir[at] = w;
            return;
        }
        at = -at - 1;
        if (live == liveDma.length) {
            liveDma = java.util.Arrays.copyOf(liveDma, live * 2);
            liveGpa = java.util.Arrays.copyOf(liveGpa, live * 2);
            liveLenDir = java.util.Arrays.copyOf(liveLenDir, live * 2);
        }
        System.arraycopy(liveDma, at, liveDma, at + 1, live - at);
        System.arraycopy(liveGpa, at, liveGpa, at + 1, live - at);
        System.arraycopy(liveLenDir, at, liveLenDir, at + 1, live - at);
        liveDma[at] = dma;
        liveGpa[at] = gpa;
        liveLenDir[at] = w;
        live++;
    }

    private void forget(long dma, int len) {
        int at = java.util.Arrays.binarySearch(liveDma, 0, live, dma);
        if (at < 0) return;
        System.arraycopy(liveDma, at + 1, liveDma, at, live - at - 1);
        System.arraycopy(liveGpa, at + 1, liveGpa, at, live - at - 1);
        System.arraycopy(liveLenDir, at + 1, liveLenDir, at, live - at - 1);
        live--;
    }

    /** The index of the live mapping that contains bus address {@code iova}, or -1. */
    private int liveAt(long iova) {
        int at = java.util.Arrays.binarySearch(liveDma, 0, live, iova);
        if (at < 0) at = -at - 2;
        if (at < 0) return -1;
        return Long.compareUnsigned(iova - liveDma[at], liveLenDir[at] >>> 2) < 0 ? at : -1;
    }

    /**
     * Whether the guest has {@code [gpa, gpa + len)} mapped for the device to write at {@code [iova, iova + len)} right
     * now: one live mapping covers the bus range, puts it at that guest address, and lets the device write.
     */
    public boolean mappedForWrite(long iova, long gpa, long len) {
        int at = liveAt(iova);
        if (at < 0) return false;
        long off = iova - liveDma[at];
        DmaDirection dir = DmaDirection.of((int) (liveLenDir[at] & 3));
        return liveGpa[at] + off == gpa && off + len <= (liveLenDir[at] >>> 2) && dir != DmaDirection.TO_DEVICE;
    }

    /** The guest address a live mapping puts bus address {@code iova} at, or -1. */
    public long gpaAt(long iova) {
        int at = liveAt(iova);
        return at < 0 ? -1 : liveGpa[at] + (iova - liveDma[at]);
    }

    /** What the guest has mapped at bus address {@code iova}: "gpa 0x... DIRECTION", or null when nothing. */
    public String mappingAt(long iova) {
        int at = liveAt(iova);
        if (at < 0) return null;
        return String.format("gpa 0x%x %s", liveGpa[at] + (iova - liveDma[at]), DmaDirection.of((int) (liveLenDir[at] & 3)));
    }

    /** Whether any live mapping holds guest memory in {@code [gpa, gpa + len)} (another buffer of the same page, say). */
    public boolean anyMappingOf(long gpa, long len) {
        for (int i = 0; i < live; i++) {
            long g = liveGpa[i], l = liveLenDir[i] >>> 2;
            if (g < gpa + len && gpa < g + l) return true;
        }
        return false;
    }

    /** TCEs the guest's unmaps cleared so far (a count for reports and tests, not state). */
    public long tcesCleared() { return tcesCleared; }

    private long tcesCleared;

    /** The number of live mappings. */
    public int liveMappings() { return live; }

    /** The direct window, the live mappings, and the window's allocator. */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(directOffset);
        out.put(live);
        for (int i = 0; i < live; i++) {
            out.put(liveDma[i], liveGpa[i]);
            out.put(liveLenDir[i]);
        }
        tbl.save(out);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        directOffset = in.next();
        live = in.nextInt();
        if (liveDma.length < live) {
            liveDma = new long[live];
            liveGpa = new long[live];
            liveLenDir = new long[live];
        }
        for (int i = 0; i < live; i++) {
            liveDma[i] = in.next();
            liveGpa[i] = in.next();
            liveLenDir[i] = in.next();
        }
        tbl.restore(in);
    }
}
