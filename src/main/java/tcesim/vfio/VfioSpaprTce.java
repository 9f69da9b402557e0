package tcesim.vfio;

import static tcesim.papr.Hcall.H_PARAMETER;
import static tcesim.papr.Hcall.H_SUCCESS;
import static tcesim.papr.Hcall.H_TOO_HARD;

import tcesim.kvm.AttachedTable;
import tcesim.mem.GuestMemory;
import tcesim.papr.Tce;

/**
 * A VFIO group's hardware table attached to a guest TCE table in KVM.
 *
 * <p>Models one {@code struct kvmppc_spapr_tce_iommu_table} on {@code stt->iommu_tables}, created by
 * QEMU's {@code KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE} ({@code kvm_spapr_tce_attach_iommu_group}), and what
 * KVM does with it from the TCE hypercalls (Linux {@code arch/powerpc/kvm/book3s_64_vio.c}):
 * <ul>
 * <li>Validate ({@code kvmppc_tce_validate}, before anything is written): the page of a valid TCE must lie
 *     in preregistered memory ({@code mm_iommu_lookup(mm, ua, 1ULL << it_page_shift)}), else H_TOO_HARD;
 *     see {@link #validate(long)}.
 * <li>Map ({@code kvmppc_tce_iommu_do_map}): the guest address must be in memory preregistered with
 *     {@code VFIO_IOMMU_SPAPR_REGISTER_MEMORY} ({@code mm_iommu_lookup}), else H_TOO_HARD ("This only
 *     handles v2 IOMMU type"); it is translated to a host physical address and exchanged into the
 *     hardware table with {@code iommu_tce_xchg_no_kill}: no cache invalidation yet.
 * <li>Unmap ({@code kvmppc_tce_iommu_do_unmap}): exchange in an empty entry; an entry that was already
 *     empty is success.
 * <li>Kill: {@code iommu_tce_kill} ({@code tce_kill} = {@code pnv_pci_ioda2_tce_invalidate}) invalidates
 *     the PHB TCE cache for the range KVM gives: once per hypercall on 2019 kernels ("KVM: PPC: Invalidate
 *     multiple TCEs at once", Aug 2019; for H_STUFF_TCE that range is the npages entries after the cleared
 *     ones), once per entry on 2022 kernels ("KVM: PPC: Fix TCE handling for VFIO", Apr 2022);
 *     {@link tcesim.kvm.KvmTceHandlers} calls {@link #kill} accordingly.
 * <li>Real mode: the real-mode handlers ({@code book3s_64_vio_hv.c}, {@code iommu_tce_xchg_no_kill_rm},
 *     {@code iommu_tce_kill_rm}) drove VFIO tables too, so {@link #realModeCapable()} is true.
 * </ul>
 *
 * <p>Fault injection: built with {@code skipKill}, the kill is recorded but not sent to the PHB, a mutation that
 * lets tests show that the stale-access oracle catches a missing tce_kill.
 */
public final class VfioSpaprTce implements AttachedTable, tcesim.state.Snapshot {
    private final HwTceTable hw;
    private final PhbTceCache cache;
    private final GuestMemory registered;
    private final boolean skipKill;

    private long exchanges, failedExchanges, kills, skippedKills, exchangesSinceKill;
    private long lastOld;
    private long lastKillIdx = -1, lastKillNpages;

    /**
     * @param hw the group's hardware table (same window geometry as the guest table)
     * @param cache the PHB's TCE cache in front of it
     * @param registered the guest RAM QEMU preregistered (all of it)
     * @param skipKill the planted fault: kills are counted but never reach the PHB
     */
    public VfioSpaprTce(HwTceTable hw, PhbTceCache cache, GuestMemory registered, boolean skipKill) {
        this.hw = hw;
        this.cache = cache;
        this.registered = registered;
        this.skipKill = skipKill;
    }

    public VfioSpaprTce(HwTceTable hw, PhbTceCache cache, GuestMemory registered) {
        this(hw, cache, registered, false);
    }

    public HwTceTable hwTable() { return hw; }
    public PhbTceCache cache() { return cache; }

    public boolean skipKill() { return skipKill; }

    @Override
    public boolean realModeCapable() { return true; }

    @Override
    public long validate(long gpa) {
        return registered.contains(gpa, hw.pageSize()) ? H_SUCCESS : H_TOO_HARD;
    }

    @Override
    public long exchange(long idx, long gpa, int perm) {
        if (!hw.contains(idx)) {
            failedExchanges++;
            return H_PARAMETER;
        }
        if ((perm & Tce.PERM_MASK) == 0) {
            lastOld = hw.exchange(idx, 0, 0);
        } else {
            if ((gpa & (hw.pageSize() - 1)) != 0) {
                // KVM validated alignment before (iommu_tce_check_gpa); the kernel would BUG here.
                failedExchanges++;
                return H_PARAMETER;
            }
            if (!registered.contains(gpa, hw.pageSize())) {
                failedExchanges++;
                return H_TOO_HARD;
            }
            lastOld = hw.exchangeGpa(idx, gpa, perm);
        }
        exchanges++;
        exchangesSinceKill++;
        return H_SUCCESS;
    }

    @Override
    public void kill(long idx, long npages) {
        kills++;
        lastKillIdx = idx;
        lastKillNpages = npages;
        if (skipKill) {
            skippedKills++;
            return;
        }
        cache.invalidate(idx, npages);
        exchangesSinceKill = 0;
    }

    /** Successful exchanges. */
    public long exchanges() { return exchanges; }
    /** Exchanges refused (out of window, misaligned, or not preregistered). */
    public long failedExchanges() { return failedExchanges; }
    /** kill() calls received from KVM. */
    public long kills() { return kills; }
    /** kill() calls swallowed by the skipKill mutation. */
    public long skippedKills() { return skippedKills; }
    /** Successful exchanges since the last kill that reached the PHB. */
    public long exchangesSinceKill() { return exchangesSinceKill; }
    /** The hardware entry replaced by the last successful exchange. */
    public long lastOld() { return lastOld; }
    public long lastKillIdx() { return lastKillIdx; }
    public long lastKillNpages() { return lastKillNpages; }

    /** The hardware table and the PHB cache; the mutation switch is configuration, the counters bookkeeping. */
    @Override
    public void save(tcesim.state.StateWriter out) {
        hw.save(out);
        cache.save(out);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        hw.restore(in);
        cache.restore(in);
    }

    @Override
    public String toString() {
        return "VfioSpaprTce[" + hw + ", " + cache + (skipKill ? ", SKIP_KILL" : "") + "]";
    }
}
