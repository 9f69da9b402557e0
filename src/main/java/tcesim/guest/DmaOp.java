package tcesim.guest;

import static tcesim.papr.Hcall.*;

import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;

/**
 * One DMA API call in progress: the hypercalls it still has to make, made one at a time so that each is
 * one atomic step of the vCPU.
 *
 * <p>An operation is plain data (what to map or unmap, and how far it has got), from which each hypercall is
 * built when it is issued, so that it can be saved with the guest's state and rebuilt. What the builders of
 * Linux {@code arch/powerpc/platforms/pseries/iommu.c} do with the hypervisor's answers (read in the 2019
 * source):
 * <ul>
 * <li>{@code tce_build_pSeriesLP} (one page, or no multi-TCE): H_PUT_TCE per page; an error is logged
 *     ({@code printk}) and the loop goes on; only H_NOT_ENOUGH_RESOURCES stops it and fails the mapping.
 * <li>{@code tce_buildmulti_pSeriesLP}: H_PUT_TCE_INDIRECT per chunk of at most 512 TCEs, written into the
 *     CPU's {@code tce_page} just before the call; {@code do { ... } while (npages > 0 && !rc)} stops at the
 *     first error; H_NOT_ENOUGH_RESOURCES fails the mapping, any other error is logged and the mapping is
 *     returned as made ({@code ret} stays 0), with the rest of its TCEs never written.
 * <li>{@code tce_free_pSeriesLP} / {@code tce_freemulti_pSeriesLP}: H_PUT_TCE(0) per page, or H_STUFF_TCE(0)
 *     per chunk of at most 512 (one call for the whole range before the 2023 chunking; equal for the ranges
 *     modelled here); errors are logged and ignored.
 * </ul>
 * So a mapping fails ({@code iommu_alloc} returns DMA_MAPPING_ERROR after {@code __iommu_free}) only on
 * H_NOT_ENOUGH_RESOURCES, which none of the modelled hypervisors returns for TCE hypercalls; the clearing
 * {@code __iommu_free} would do then is not modelled, the entries are released.
 */
public final class DmaOp {
    /** What the operation tells the hypervisor. */
    public enum Kind {
        /** Build TCEs for a new mapping. */
        MAP,
        /** Clear the TCEs of a mapping. */
        UNMAP,
        /** No hypercall: a direct-window mapping, or a guest that does not clear on unmap. */
        NONE,
        /**
         * Clear a whole window before giving it back ({@code remove_ddw} -> {@code tce_clearrange_multi_pSeriesLP}:
         * H_STUFF_TCE(0) 512 TCEs at a time, {@code while (num_tce > 0 && !rc)}); no mapping bookkeeping.
         */
        CLEAR_WINDOW,
        /**
         * One call of the hostile guest's adversarial set ({@link HostileHcall}), its registers kept as given: the
         * opcode in {@code len}, the ioba in {@code dmaAddr}, r6 in {@code gpa}, npages in {@code npages}, and for
         * H_PUT_TCE_INDIRECT the value of each list entry in {@code entry}, written into the CPU's list page when
         * r6 is -1 (else r6 is the list address as given, guest RAM or not); no mapping bookkeeping.
         */
        HOSTILE
    }

    private static final Kind[] KINDS = Kind.values();

    private final PseriesIommu iommu;
    private final Kind kind;
    private final long gpa;
    private final int len;
    private final DmaDirection dir;
    private final long dmaAddr;
    private final long entry;
    private final int npages;
    /** MAP: H_PUT_TCE_INDIRECT chunks; UNMAP: H_STUFF_TCE chunks; else one H_PUT_TCE per page. */
    private final boolean multi;
    private final long listPage;
    /** The window the calls name, and its TCE page shift (the DMA layer's own window unless this clears another). */
    private final long liobn;
    private final int shift;
    private int next;
    private boolean failed;

    DmaOp(PseriesIommu iommu, Kind kind, long gpa, int len, DmaDirection dir, long dmaAddr, long entry, int npages, boolean multi, long listPage) {
        this(iommu, kind, gpa, len, dir, dmaAddr, entry, npages, multi, listPage, iommu.liobn(), iommu.tceShift());
    }

    private DmaOp(PseriesIommu iommu, Kind kind, long gpa, int len, DmaDirection dir, long dmaAddr, long entry, int npages, boolean multi, long listPage,
                  long liobn, int shift) {
        this.liobn = liobn;
        this.shift = shift;
        this.iommu = iommu;
        this.kind = kind;
        this.gpa = gpa;
        this.len = len;
        this.dir = dir;
        this.dmaAddr = dmaAddr;
        this.entry = entry;
        this.npages = npages;
        this.multi = multi;
        this.listPage = listPage;
    }

    public Kind kind() { return kind; }
    /** The bus address of the mapping (for a map), or of the range being unmapped. */
    public long dmaAddr() { return dmaAddr; }
    long gpa() { return gpa; }
    int len() { return len; }
    DmaDirection dir() { return dir; }
    long entry() { return entry; }
    int npages() { return npages; }

    /** Hypercalls the operation makes when none stops it early. */
    public int hcalls() {
        if (kind == Kind.NONE) return 0;
        if (kind == Kind.HOSTILE) return 1;
        return multi ? (npages + MAX_INDIRECT_TCES - 1) / MAX_INDIRECT_TCES : npages;
    }

    public boolean done() { return next >= hcalls(); }

    /** Whether the mapping failed (DMA_MAPPING_ERROR): the buffer must not be posted. */
    public boolean mappingFailed() { return failed; }

    /** The clearing of window {@code liobn} (TCE page shift {@code shift}, entries {@code [firstEntry, firstEntry + entries)}) before it goes. */
    static DmaOp clearWindow(PseriesIommu iommu, long liobn, int shift, long firstEntry, int entries) {
        return new DmaOp(iommu, Kind.CLEAR_WINDOW, -1, 0, DmaDirection.BIDIRECTIONAL, firstEntry << shift, firstEntry, entries, true, 0, liobn, shift);
    }

    /**
     * Prepares the next hypercall and returns its registers: for H_PUT_TCE_INDIRECT, the chunk's TCEs are
     * written big-endian into the CPU's list page first, as {@code tce_buildmulti_pSeriesLP} fills its
     * {@code tce_page}. Calling it again before {@link #end} rebuilds the same call (and rewrites the list).
     */
    public HcallRegs begin() {
        HcallRegs r = new HcallRegs();
        if (kind == Kind.HOSTILE) return hostileCall(r);
        long ioba = entry << shift;
        if (!multi) {
            long tce = kind == Kind.MAP ? (((gpa >>> shift) + next) << shift) | dir.tcePerm() : 0;
            return r.set(H_PUT_TCE, liobn, ioba + ((long) next << shift), tce, 0);
        }
        int done = next * MAX_INDIRECT_TCES;
        int n = Math.min(MAX_INDIRECT_TCES, npages - done);
        long chunk = ioba + ((long) done << shift);
        if (kind != Kind.MAP) return r.set(H_STUFF_TCE, liobn, chunk, 0, n);
        writeMapList(done, n);
        return r.set(H_PUT_TCE_INDIRECT, liobn, chunk, listPage, n);
    }

    /**
     * Writes into the CPU's list page what {@link #begin()} writes there for the next hypercall, and nothing else (no
     * registers are built): a call parked with its list still to be read puts it back as it was. Nothing when the call
     * has no list in that page.
     */
    public void rewriteList() {
        if (kind == Kind.HOSTILE) {
            if (len == H_PUT_TCE_INDIRECT && gpa == -1) writeHostileList();
        } else if (multi && kind == Kind.MAP) {
            int done = next * MAX_INDIRECT_TCES;
            writeMapList(done, Math.min(MAX_INDIRECT_TCES, npages - done));
        }
    }

    /** The TCEs of pages {@code [done, done + n)} of the mapping, big-endian, into the CPU's list page. */
    private void writeMapList(int done, int n) {
        GuestMemory mem = iommu.memory();
        long rpn = (gpa >>> shift) + done;
        for (int i = 0; i < n; i++) mem.writeLongBE(listPage + 8L * i, ((rpn + i) << shift) | dir.tcePerm());
    }

    /** The one call of a hostile operation; an H_PUT_TCE_INDIRECT's list is written first when it is the CPU's list page. */
    private HcallRegs hostileCall(HcallRegs r) {
        long list = gpa;
        if (len == H_PUT_TCE_INDIRECT && gpa == -1) {
            list = listPage;
            writeHostileList();
        }
        return r.set(len, liobn, dmaAddr, list, npages);
    }

    private void writeHostileList() {
        for (int i = 0; i < Math.min(npages, MAX_INDIRECT_TCES); i++) iommu.memory().writeLongBE(listPage + 8L * i, entry);
    }

    /** The hostile call {@code h} on the DMA layer's window, its list (if any) in {@code listPage}. */
    static DmaOp hostile(PseriesIommu iommu, HostileHcall h, long first, long entries, long ramBytes, long ramPage, long listPage) {
        long[] c = h.registers(iommu.liobn(), iommu.tceShift(), first, entries, ramBytes, ramPage);
        return new DmaOp(iommu, Kind.HOSTILE, c[3], (int) c[0], DmaDirection.BIDIRECTIONAL, c[2], c[5], (int) c[4], false, listPage, c[1], iommu.tceShift());
    }

    /** Records the return of the hypercall {@link #begin()} prepared; after the last, the mapping layer completes the operation. */
    public void end(HcallRegs r) {
        long rc = r.r3;
        if (kind == Kind.MAP && rc == H_NOT_ENOUGH_RESOURCES) {
            failed = true;
            next = hcalls();
        } else if ((kind == Kind.MAP && multi || kind == Kind.CLEAR_WINDOW) && rc != H_SUCCESS) {
            next = hcalls(); // do { } while (npages > 0 && !rc)
        } else {
            next++;
        }
        if (done()) iommu.complete(this);
    }

    /** Issues the next hypercall through the guest's hypervisor interface and records its return. */
    public HcallRegs step() {
        HcallRegs r = begin();
        iommu.hypervisor().hcall(r);
        end(r);
        return r;
    }

    /** Runs every remaining hypercall (boot-time work that is not interleaved). */
    public DmaOp runToEnd() {
        while (!done()) step();
        return this;
    }

    /** The operation as data: enough for {@link PseriesIommu#restoreOp} to rebuild it. */
    void save(tcesim.state.StateWriter out) {
        out.put(kind.ordinal() | (dir.ordinal() << 3) | (multi ? 32 : 0) | (failed ? 64 : 0) | ((long) next << 8), gpa);
        out.put(len, dmaAddr);
        out.put(entry, npages);
        out.put(listPage);
        out.put(liobn, shift);
    }

    static DmaOp restore(PseriesIommu iommu, tcesim.state.StateReader in) {
        long h = in.next();
        long gpa = in.next();
        int len = in.nextInt();
        long dma = in.next();
        long entry = in.next();
        int npages = in.nextInt();
        long listPage = in.next();
        long liobn = in.next();
        int shift = in.nextInt();
        DmaOp op = new DmaOp(iommu, KINDS[(int) (h & 7)], gpa, len, DmaDirection.of((int) ((h >>> 3) & 3)), dma, entry, npages,
                (h & 32) != 0, listPage, liobn, shift);
        op.failed = (h & 64) != 0;
        op.next = (int) (h >>> 8);
        return op;
    }
}
