package tcesim.vfio;

import tcesim.papr.Tce;
import tcesim.papr.TceTable;

/**
 * The hardware TCE table behind a VFIO group: what the PHB walks when the passthrough device does DMA.
 *
 * <p>Models the {@code struct iommu_table} of an IODA2 PE on a PowerNV host (Linux
 * {@code arch/powerpc/platforms/powernv/pci-ioda.c}, ops {@code pnv_ioda2_iommu_ops}) with its
 * {@code xchg_no_kill} operation ({@code pnv_tce_xchg} in {@code pci-ioda-tce.c}). Facts used:
 * <ul>
 * <li>An entry is a host physical address ORed with the permission bits {@code TCE_PCI_READ}/
 *     {@code TCE_PCI_WRITE}; {@code pnv_tce_xchg} builds {@code newtce = hpa | perm}, adds READ whenever
 *     WRITE is set ("if (newtce & TCE_PCI_WRITE) newtce |= TCE_PCI_READ"), swaps it in with
 *     {@code xchg()} and hands back the old address and direction. So a guest's write-only TCE is
 *     readable by the device in hardware: see {@link #hwPerm(int)}.
 * <li>The hpa must be aligned to the table's page ({@code BUG_ON(*hpa & ~IOMMU_PAGE_MASK(tbl))}).
 * <li>Clearing (DMA_NONE) an entry whose indirect level was never allocated allocates nothing
 *     ({@code pnv_tce(tbl, false, idx, false)} returning NULL gives hpa 0): here the storage is the same
 *     sparse chunked array as the guest table ({@link TceTable}), which writes no chunk for a zero.
 * <li>KVM only attaches a hardware table whose window matches the guest's ({@code
 *     kvm_spapr_tce_attach_iommu_group} compares offset and size in bytes and requires
 *     {@code it_page_shift <= stt->page_shift}); this model uses the same page size, so one guest
 *     entry is one hardware entry (no sub-pages).
 * </ul>
 *
 * <p>Host physical addresses: QEMU preregisters all guest RAM ({@code VFIO_IOMMU_SPAPR_REGISTER_MEMORY},
 * {@code mm_iommu_*}) and KVM translates a guest address to hpa through that registration. The model
 * fixes the host placement of guest RAM as one contiguous block: {@code hpa = hpaBase + gpa}.
 */
public final class HwTceTable implements tcesim.state.Snapshot {
    /** Where the model places guest RAM in host physical memory (arbitrary; aligned to every IOMMU page size up to 2^34). */
    public static final long DEFAULT_HPA_BASE = 0x0000_2000_0000_0000L;

    private final TceTable entries;
    private final long hpaBase;
    private long exchanges;

    public HwTceTable(long liobn, int pageShift, long offset, long size, long hpaBase) {
        this.entries = new TceTable(liobn, pageShift, offset, size);
        if ((hpaBase & (entries.pageSize() - 1)) != 0 || hpaBase < 0)
            throw new IllegalArgumentException(String.format("hpa base 0x%x not aligned to the IOMMU page", hpaBase));
        this.hpaBase = hpaBase;
    }

    /** A hardware table with the geometry of the guest window {@code guest} (as KVM requires to attach it). */
    public static HwTceTable matching(TceTable guest) {
        return new HwTceTable(guest.liobn(), guest.pageShift(), guest.offset(), guest.size(), DEFAULT_HPA_BASE);
    }

    public int pageShift() { return entries.pageShift(); }
    public long pageSize() { return entries.pageSize(); }
    public long offset() { return entries.offset(); }
    public long size() { return entries.size(); }
    public long hpaBase() { return hpaBase; }

    /** True when absolute entry index {@code idx} lies in the window. */
    public boolean contains(long idx) { return entries.contains(idx); }

    /** Host physical address of guest physical address {@code gpa} (the preregistered RAM block). */
    public long toHpa(long gpa) { return hpaBase + gpa; }

    /** Guest physical address of host physical address {@code hpa}; meaningful only inside the RAM block. */
    public long toGpa(long hpa) { return hpa - hpaBase; }

    /** The permission bits the hardware entry gets for a guest permission: WRITE implies READ ({@code pnv_tce_xchg}). */
    public static int hwPerm(int guestPerm) {
        int p = guestPerm & (int) Tce.PERM_MASK;
        return (p & Tce.WRITE) != 0 ? p | (int) Tce.READ : p;
    }

    /** The raw entry at {@code idx} (hpa | perm, or 0). */
    public long get(long idx) {
        checkIdx(idx);
        return entries.get(idx);
    }

    /**
     * Swaps in {@code hpa | hwPerm(perm)} at {@code idx} (0 when {@code perm} is 0: the entry is cleared and
     * the address ignored) and returns the previous entry.
     */
    public long exchange(long idx, long hpa, int perm) {
        checkIdx(idx);
        long tce = 0;
        if ((perm & Tce.PERM_MASK) != 0) {
            if ((hpa & (pageSize() - 1)) != 0 || hpa < 0)
                throw new IllegalArgumentException(String.format("hpa 0x%x not aligned to the IOMMU page", hpa));
            tce = hpa | hwPerm(perm);
        }
        long old = entries.get(idx);
        entries.put(idx, tce);
        exchanges++;
        return old;
    }

    /** {@link #exchange} with the address given as guest physical (translated through the RAM registration). */
    public long exchangeGpa(long idx, long gpa, int perm) {
        return exchange(idx, (perm & Tce.PERM_MASK) != 0 ? toHpa(gpa) : 0, perm);
    }

    /** Number of exchanges so far (bookkeeping; not part of the saved state). */
    public long exchanges() { return exchanges; }

    /** Number of allocated storage chunks (clears of untouched ranges allocate none). */
    public int allocatedChunks() { return entries.allocatedChunks(); }

    /** The entries (the geometry is configuration); the exchange counter is bookkeeping. */
    @Override
    public void save(tcesim.state.StateWriter out) { entries.save(out); }

    @Override
    public void restore(tcesim.state.StateReader in) { entries.restore(in); }

    private void checkIdx(long idx) {
        if (!entries.contains(idx))
            throw new IllegalArgumentException(String.format("entry 0x%x outside window [0x%x, +%d)", idx, entries.offset(), entries.size()));
    }

    @Override
    public String toString() {
        return String.format("HwTceTable[page_shift=%d, offset=0x%x, size=%d, hpa_base=0x%x]", pageShift(), offset(), size(), hpaBase);
    }
}
