package tcesim.guest;

import static tcesim.papr.Hcall.*;

import java.util.HashMap;
import java.util.Map;
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
 * The guest ignores errors of the clearing calls (the kernel only logs them) and releases the entries
 * anyway; a failed map releases its entries and reports DMA_MAPPING_ERROR.
 *
 * <p>It also keeps what the guest has mapped for DMA right now, page by page, from the return of the
 * map's last hypercall to the return of the unmap's: the guest's intent that the corruption oracle
 * judges device writes against.
 */
public final class PseriesIommu {
    private final Hypervisor hv;
    private final GuestMemory mem;
    private final long liobn;
    private final IommuTableAllocator tbl;
    private final FirmwareFeatures fw;
    private final int tceShift;
    private final long[] cpuListPage;
    private long directOffset = -1;
    /** Guest page frame -> bus address of its page in a live mapping, and the mapping's direction. */
    private final Map<Long, Long> liveDma = new HashMap<>();
    private final Map<Long, DmaDirection> liveDir = new HashMap<>();
    /** Bus page -> guest page frame, to find a mapping from the address dma_unmap_page is given. */
    private final Map<Long, Long> liveByDma = new HashMap<>();

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
            return new DmaOp(hv, mem, 0, directOffset + gpa, null);
        }
        int npages = pagesFor(gpa, len);
        long entry = tbl.alloc(cpu, npages, 0);
        if (entry == IommuTableAllocator.DMA_MAPPING_ERROR) return null;
        long ioba = entry << tceShift;
        long dma = ioba | (gpa & ((1L << tceShift) - 1));
        long rpn = gpa >>> tceShift;
        long perm = dir.tcePerm();
        long listPage = cpuListPage[cpu % cpuListPage.length];
        DmaOp op = new DmaOp(hv, mem, listPage, dma, o -> {
            if (o.firstError() == H_SUCCESS) record(gpa, len, dma, dir);
            else tbl.free(entry, npages);
        });
        if (npages == 1 || !fw.putTceIndirect()) {
            for (int i = 0; i < npages; i++)
                op.add(new HcallRegs().set(H_PUT_TCE, liobn, ioba + ((long) i << tceShift), ((rpn + i) << tceShift) | perm, 0), null);
        } else {
            for (int done = 0; done < npages; done += MAX_INDIRECT_TCES) {
                int n = Math.min(MAX_INDIRECT_TCES, npages - done);
                long[] list = new long[n];
                for (int i = 0; i < n; i++) list[i] = ((rpn + done + i) << tceShift) | perm;
                op.add(new HcallRegs().set(H_PUT_TCE_INDIRECT, liobn, ioba + ((long) done << tceShift), listPage, n), list);
            }
        }
        return op;
    }

    /** Starts {@code dma_unmap_page}: clears the TCEs, then releases the entries to the allocator. */
    public DmaOp unmap(int cpu, long dmaAddr, int len) {
        if (direct()) {
            forget(dmaAddr, len);
            return new DmaOp(hv, mem, 0, dmaAddr, null);
        }
        long ioba = dmaAddr & ~((1L << tceShift) - 1);
        int npages = pagesFor(dmaAddr, len);
        long entry = ioba >>> tceShift;
        DmaOp op = new DmaOp(hv, mem, 0, dmaAddr, o -> {
            forget(dmaAddr, len);
            tbl.free(entry, npages);
        });
        if (!fw.clearOnUnmap()) {
            // The entries go back to the allocator still valid; the next map of them overwrites them.
            forget(dmaAddr, len);
            tbl.free(entry, npages);
            return new DmaOp(hv, mem, 0, dmaAddr, null);
        }
        if (fw.stuffTce()) {
            for (int done = 0; done < npages; done += MAX_INDIRECT_TCES) {
                int n = Math.min(MAX_INDIRECT_TCES, npages - done);
                op.add(new HcallRegs().set(H_STUFF_TCE, liobn, ioba + ((long) done << tceShift), 0, n), null);
            }
        } else {
            for (int i = 0; i < npages; i++) op.add(new HcallRegs().set(H_PUT_TCE, liobn, ioba + ((long) i << tceShift), 0, 0), null);
        }
        return op;
    }

    private void record(long gpa, int len, long dma, DmaDirection dir) {
        long pfn = gpa >>> GuestMemory.PAGE_SHIFT;
        long dmaPage = dma >>> GuestMemory.PAGE_SHIFT;
        long n = ((gpa + Math.max(len, 1) - 1) >>> GuestMemory.PAGE_SHIFT) - pfn + 1;
        for (long i = 0; i < n; i++) {
            liveDma.put(pfn + i, (dmaPage + i) << GuestMemory.PAGE_SHIFT);
            liveDir.put(pfn + i, dir);
            liveByDma.put(dmaPage + i, pfn + i);
        }
    }

    private void forget(long dma, int len) {
        long dmaPage = dma >>> GuestMemory.PAGE_SHIFT;
        long n = ((dma + Math.max(len, 1) - 1) >>> GuestMemory.PAGE_SHIFT) - dmaPage + 1;
        for (long i = 0; i < n; i++) {
            Long pfn = liveByDma.remove(dmaPage + i);
            if (pfn == null) continue;
            liveDma.remove(pfn);
            liveDir.remove(pfn);
        }
    }

    /** The bus address at which the guest has page {@code pfn} mapped for DMA right now, or -1. */
    public long mappedAt(long pfn) {
        Long v = liveDma.get(pfn);
        return v == null ? -1 : v;
    }

    /** The direction of the live mapping of page {@code pfn}, or null. */
    public DmaDirection mappedDirection(long pfn) { return liveDir.get(pfn); }

    /** 64-bit hash of the live mappings (order-independent) and the window allocator, for state fingerprints. */
    public long digest(long h) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : liveDma.entrySet()) sum += tcesim.papr.Mix.mix(e.getKey(), e.getValue(), liveDir.get(e.getKey()).ordinal());
        return tbl.digest(tcesim.papr.Mix.mix(h, sum, liveDma.size()));
    }
}
