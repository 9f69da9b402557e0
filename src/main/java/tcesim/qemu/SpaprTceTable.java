package tcesim.qemu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import tcesim.papr.Tce;
import tcesim.papr.TceTable;

/**
 * QEMU's view of one DMA window: {@code SpaprTceTable} ({@code hw/ppc/spapr_iommu.c}).
 *
 * <p>Holds the geometry, the entries (either QEMU's own array or the KVM table it mmapped, in which case
 * {@link #inKernel()} is true and KVM's handlers write the same entries), the {@code need_vfio} flag and
 * the IOMMU notifiers registered on the window's IOMMU memory region.
 */
public final class SpaprTceTable {
    private TceTable table;
    private boolean inKernel;
    private boolean needVfio;
    private final List<IommuNotifier> notifiers = new ArrayList<>();

    public SpaprTceTable(TceTable table, boolean inKernel) {
        this.table = table;
        this.inKernel = inKernel;
    }

    public long liobn() { return table.liobn(); }
    public TceTable table() { return table; }
    public boolean inKernel() { return inKernel; }
    public boolean needVfio() { return needVfio; }
    public long busOffset() { return table.busOffset(); }
    public long nbTable() { return table.size(); }
    public int pageShift() { return table.pageShift(); }

    void setNeedVfio(boolean v) { needVfio = v; }

    /** Moves the entries to a new home (KVM or QEMU), keeping their values, as {@code spapr_tce_set_need_vfio} does. */
    void relocate(TceTable newTable, boolean newInKernel) {
        long first = table.offset();
        for (long i = 0; i < table.size(); i++) {
            long v = table.get(first + i);
            if (v != 0) newTable.put(first + i, v);
        }
        table = newTable;
        inKernel = newInKernel;
    }

    public List<IommuNotifier> notifiers() { return Collections.unmodifiableList(notifiers); }

    void addNotifier(IommuNotifier n) { notifiers.add(n); }

    boolean removeNotifier(IommuNotifier n) { return notifiers.remove(n); }

    /**
     * Fires the notifiers for entry {@code idx} just written with {@code tce}: an entry without permission
     * bits is an UNMAP, any other a MAP ({@code put_tce_emu}).
     */
    void notifyEntry(long idx, long tce) {
        if (notifiers.isEmpty()) return;
        long pageMask = table.pageMask();
        int perm = Tce.perm(tce);
        IommuTlbEvent e = new IommuTlbEvent(perm == 0 ? IommuTlbEvent.Type.UNMAP : IommuTlbEvent.Type.MAP,
                ((idx << table.pageShift()) - table.busOffset()) & pageMask, tce & pageMask, ~pageMask, perm);
        for (int i = 0; i < notifiers.size(); i++) {
            IommuNotifier n = notifiers.get(i);
            if (e.type() == IommuTlbEvent.Type.UNMAP ? n.wantsUnmap() : n.wantsMap()) n.notify(e);
        }
    }

    /**
     * {@code spapr_tce_translate_iommu}: the translation of bus address {@code addr} as the table holds it
     * now. Returns null outside the window; an entry without permission bits translates with perm 0.
     */
    public IommuTlbEvent translate(long addr) {
        long rel = addr - table.busOffset();
        long idx = rel >>> table.pageShift();
        // Unsigned, as bus addresses are: a window above 2^63 must translate too.
        if (Long.compareUnsigned(addr, table.busOffset()) < 0 || Long.compareUnsigned(idx, table.size()) >= 0) return null;
        long tce = table.get(table.offset() + idx);
        long pageMask = table.pageMask();
        return new IommuTlbEvent(IommuTlbEvent.Type.MAP, rel & pageMask, tce & pageMask, ~pageMask, Tce.perm(tce));
    }
}
