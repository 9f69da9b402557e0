package tcesim.qemu;

import java.util.TreeMap;
import tcesim.kvm.HostCaps;
import tcesim.kvm.Kvm;
import tcesim.kvm.KvmSpaprTceTable;
import tcesim.mem.GuestMemory;
import tcesim.mem.HostMemoryListener;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;

/**
 * The pseries machine in QEMU, as far as DMA windows go: the LIOBN registry, where each table lives,
 * and the userspace half of the hypercall path.
 *
 * <p>Models {@code hw/ppc/spapr_iommu.c} ({@code spapr_tce_new_table}, {@code spapr_tce_table_enable},
 * {@code spapr_tce_set_need_vfio}, {@code spapr_tce_notify_flag_changed}), {@code target/ppc/kvm.c}
 * ({@code kvmppc_create_spapr_tce}) and {@code hw/ppc/spapr_hcall.c} ({@code spapr_hypercall}).
 *
 * <p>The placement rule: the table is created in KVM ({@code KVM_CREATE_SPAPR_TCE_64}, then mmapped)
 * when KVM is in use, has the TCE capability, and either no notifier needs the table in userspace
 * ({@code !need_vfio}) or KVM can attach hardware tables ({@code KVM_CAP_SPAPR_TCE_VFIO});
 * {@code kvmppc_create_spapr_tce} returns NULL, and QEMU allocates the table itself, when
 * {@code !cap_spapr_tce || (need_vfio && !cap_spapr_vfio)}. Registering the first IOMMU notifier of any
 * kind (VFIO's or vhost's) sets need_vfio ({@code spapr_tce_notify_flag_changed}); on a host with the
 * VFIO-TCE capability the table then stays in KVM ({@code spapr_tce_set_need_vfio} returns early when
 * {@code fd != -1 && kvmppc_has_cap_spapr_vfio()}), so vhost's notifier is never called for the
 * hypercalls KVM finishes: the seed's bug. Without the capability, the table is moved to QEMU memory
 * with its entries. Clearing need_vfio never moves it back.
 */
public final class Spapr implements Kvm.UserspaceExit {
    /** {@code SPAPR_PCI_LIOBN(phb_index, window_num)} = 0x80000000 | phb_index << 8 | window_num ({@code include/hw/ppc/spapr.h}). */
    public static long pciLiobn(int phbIndex, int window) {
        return 0x80000000L | ((long) phbIndex << 8) | window;
    }

    /** Default 32-bit window of a PHB: bus 0, 1 GiB ({@code spapr_pci.c}: dma_win_addr 0, dma_win_size 0x40000000). */
    public static final long DEFAULT_WINDOW_BYTES = 0x40000000L;
    /** Bus address of the 64-bit dynamic window ({@code spapr_pci.c}: dma64_win_addr 0x800000000000000 = 1 << 59). */
    public static final long DDW_BUS_OFFSET = 1L << 59;

    private final Kvm kvm;
    private final GuestMemory mem;
    private final QemuPolicy policy;
    private final TreeMap<Long, SpaprTceTable> tables = new TreeMap<>();
    /** The same tables in LIOBN order, for the lookups of every hypercall and device access (a PHB has one or two). */
    private SpaprTceTable[] byLiobn = new SpaprTceTable[0];
    private final QemuTceHandlers handlers;

    public Spapr(Kvm kvm, GuestMemory mem, QemuPolicy policy) {
        this(kvm, mem, policy, HostMemoryListener.NONE);
    }

    /**
     * @param kvm null for a machine without KVM (TCG): every table in QEMU
     * @param hostMemory told when QEMU's handlers index past a table (see {@link HostMemoryListener})
     */
    public Spapr(Kvm kvm, GuestMemory mem, QemuPolicy policy, HostMemoryListener hostMemory) {
        this.kvm = kvm;
        this.mem = mem;
        this.policy = policy;
        this.handlers = new QemuTceHandlers(this::table, mem, policy.planted(), hostMemory);
        if (kvm != null) kvm.setUserspaceExit(this);
    }

    public GuestMemory memory() { return mem; }

    private HostCaps caps() {
        return kvm == null ? HostCaps.NO_KVM_TCE : kvm.caps();
    }

    /** Creates and enables a DMA window; placed in KVM or in QEMU by the rule above. */
    public SpaprTceTable createTable(long liobn, int pageShift, long busOffset, long nbTable) {
        if (tables.containsKey(liobn)) throw new IllegalArgumentException(String.format("LIOBN 0x%x exists", liobn));
        long offset = busOffset >>> pageShift;
        SpaprTceTable t = kvmPlacementAllowed(false)
                ? new SpaprTceTable(kvm.createSpaprTce64(liobn, pageShift, offset, nbTable).table(), true)
                : new SpaprTceTable(new TceTable(liobn, pageShift, offset, nbTable), false);
        tables.put(liobn, t);
        byLiobn = tables.values().toArray(new SpaprTceTable[0]);
        return t;
    }

    /**
     * Machine reset, once the PHB's default window exists: {@code spapr_tce_reset} zeroes every window's table, which on
     * a table in KVM allocates every page of it ({@link TceTable#backEveryPage}); windows the guest creates later (a DDW)
     * get their pages as they are written. No notifier hears of it.
     */
    public void machineReset() {
        for (SpaprTceTable t : byLiobn) {
            t.table().clearAll();
            if (t.inKernel()) t.table().backEveryPage();
        }
    }

    /** Removes a window ({@code ibm,remove-pe-dma-window}, or a reset): its notifiers are dropped without any event. */
    public void removeTable(long liobn) {
        SpaprTceTable t = tables.remove(liobn);
        byLiobn = tables.values().toArray(new SpaprTceTable[0]);
        if (t != null && t.inKernel()) kvm.releaseSpaprTce(liobn);
    }

    public SpaprTceTable table(long liobn) {
        for (SpaprTceTable t : byLiobn) if (t.liobn() == liobn) return t;
        return null;
    }

    /**
     * {@code memory_region_register_iommu_notifier} on the window's IOMMU region. The first notifier sets
     * need_vfio, which may move the table out of KVM.
     *
     * @param fromVhost whether the notifier is vhost's (design D2 treats it as needing userspace)
     */
    public void registerNotifier(long liobn, IommuNotifier n, boolean fromVhost) {
        SpaprTceTable t = tables.get(liobn);
        if (t == null) throw new IllegalArgumentException(String.format("no window with LIOBN 0x%x", liobn));
        boolean first = t.notifiers().isEmpty();
        t.addNotifier(n);
        // QEMU learns of notifiers through notify_flag_changed, which fires only when the region's combined
        // flags change: a vhost notifier (UNMAP) after VFIO's (MAP|UNMAP) changes nothing. Design D2 must move
        // the table on any vhost registration all the same, so it hooks the registration itself.
        if (first || (fromVhost && policy.vhostForcesUserspaceTable())) setNeedVfio(t, true, fromVhost);
    }

    public void unregisterNotifier(long liobn, IommuNotifier n) {
        SpaprTceTable t = tables.get(liobn);
        if (t == null) return;
        t.removeNotifier(n);
        if (t.notifiers().isEmpty()) t.setNeedVfio(false);
    }

    private void setNeedVfio(SpaprTceTable t, boolean needVfio, boolean fromVhost) {
        t.setNeedVfio(needVfio);
        boolean forceUserspace = fromVhost && policy.vhostForcesUserspaceTable();
        if (t.inKernel() && !forceUserspace && kvmPlacementAllowed(needVfio)) return;
        if (!t.inKernel()) return;
        TceTable old = t.table();
        t.relocate(new TceTable(old.liobn(), old.pageShift(), old.offset(), old.size()), false);
        kvm.releaseSpaprTce(old.liobn());
    }

    /** {@code kvmppc_create_spapr_tce} succeeds: KVM in use, TCE capability, and VFIO-TCE when need_vfio. */
    private boolean kvmPlacementAllowed(boolean needVfio) {
        HostCaps c = caps();
        return kvm != null && c.spaprTce() && (!needVfio || c.spaprTceVfio());
    }

    /** The userspace hypercall handler ({@code spapr_hypercall}): TCE calls go to spapr_iommu.c, others are H_FUNCTION. */
    @Override
    public long papr_hcall(HcallRegs regs) {
        return handlers.hcall(regs);
    }

    /** Whether QEMU advertises "hcall-multi-tce" in ibm,hypertas-functions: always under TCG, with KVM only given KVM_CAP_SPAPR_MULTITCE ({@code hw/ppc/spapr.c}). */
    public boolean advertisesMultiTce() {
        return kvm == null || caps().multiTce();
    }

    /** The translation of bus address {@code addr} by whichever window covers it, as the table is now; null when none does. */
    public IommuTlbEvent translate(long addr) {
        for (SpaprTceTable t : byLiobn) {
            IommuTlbEvent e = t.translate(addr);
            if (e != null) return e;
        }
        return null;
    }
}
