package tcesim.kvm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import tcesim.papr.TceTable;

/**
 * A guest TCE table owned by KVM: the table itself plus the hardware tables (and other links) attached to it.
 *
 * <p>Models {@code struct kvmppc_spapr_tce_table} (Linux {@code arch/powerpc/include/asm/kvm_host.h}):
 * {@code liobn, page_shift, offset, size, pages[]} and the {@code iommu_tables} list.
 */
public final class KvmSpaprTceTable {
    private final TceTable table;
    private final List<AttachedTable> attached = new ArrayList<>();
    /** The attached tables as callers see them: a view made once (every TCE hypercall goes over it). */
    private final List<AttachedTable> attachedView = Collections.unmodifiableList(attached);

    KvmSpaprTceTable(TceTable table) {
        this.table = table;
    }

    public TceTable table() { return table; }

    public List<AttachedTable> attached() { return attachedView; }

    public void attach(AttachedTable t) { attached.add(t); }

    public boolean detach(AttachedTable t) { return attached.remove(t); }

    boolean realModeCapable() {
        for (AttachedTable t : attached) if (!t.realModeCapable()) return false;
        return true;
    }
}
