package tcesim.kvm;

/**
 * Something KVM keeps in step with a guest TCE table from inside its hypercall handlers.
 *
 * <p>Models the list {@code stt->iommu_tables} of {@code struct kvmppc_spapr_tce_iommu_table}
 * (Linux {@code arch/powerpc/kvm/book3s_64_vio.c}): QEMU attaches a VFIO group's hardware table with
 * {@code KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE}; each TCE the guest writes is exchanged into the hardware
 * table and the PHB's TCE cache is invalidated ({@code iommu_tce_kill}): once per hypercall on a 2019
 * kernel, once per entry on a 2022 one ({@link KvmTceHandlers} has the ranges). Designs that let KVM tell
 * vhost about cleared entries attach through the same hook (see {@code tcesim.sim.Design}), and so see
 * the same kills.
 */
public interface AttachedTable {
    /** Whether the real-mode handlers may drive this attachment; if not, real mode returns H_TOO_HARD to fall back to virtual mode. */
    boolean realModeCapable();

    /**
     * The attachment's part of {@code kvmppc_tce_validate} for a valid TCE whose guest physical address is
     * {@code gpa} (page aligned, in a memslot): for a VFIO table, the page must be in preregistered memory
     * ({@code mm_iommu_lookup(stt->kvm->mm, ua, 1ULL << it_page_shift)}), else H_TOO_HARD. Called for every
     * TCE of a hypercall before any entry is written. Links that need no preregistration accept anything.
     */
    default long validate(long gpa) {
        return tcesim.papr.Hcall.H_SUCCESS;
    }

    /**
     * Exchanges entry {@code idx} (absolute index in the guest window) for a translation to guest physical
     * address {@code gpa} with permission bits {@code perm} (0 = unmap). Returns H_SUCCESS, or an hcall
     * error which aborts the hypercall.
     */
    long exchange(long idx, long gpa, int perm);

    /**
     * Invalidates whatever caches translations of entries {@code [idx, idx + npages)}; KVM passes the range
     * its kernel era computes, which for H_STUFF_TCE on a 2019 kernel is not the range it cleared.
     */
    void kill(long idx, long npages);

    /**
     * The TCE hypercall that reached the table has finished, whatever it returned: the hook for a design that acts once
     * per call whatever the era does with its kills (the D3 eventfd).
     */
    default void hypercallDone() {}
}
