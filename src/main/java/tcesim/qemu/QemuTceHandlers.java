package tcesim.qemu;

import static tcesim.papr.Hcall.*;

import java.util.function.LongFunction;
import tcesim.mem.GuestMemory;
import tcesim.mem.HostMemoryListener;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;

/**
 * QEMU's TCE hypercall handlers, run when KVM exits to userspace or when the table lives in QEMU.
 *
 * <p>Models {@code h_put_tce}, {@code h_get_tce}, {@code h_stuff_tce}, {@code h_put_tce_indirect},
 * {@code put_tce_emu} and {@code get_tce_emu} of QEMU {@code hw/ppc/spapr_iommu.c}. They differ from
 * KVM's:
 * <ul>
 * <li>an unknown LIOBN is H_PARAMETER (there is no further level to hand it to);
 * <li>the ioba is masked to the table's page ({@code ioba &= page_mask}, in {@code h_put_tce},
 *     {@code h_get_tce}, {@code h_stuff_tce} and {@code h_put_tce_indirect} alike) instead of being
 *     rejected when misaligned;
 * <li>bounds are checked per entry: {@code index = (ioba - bus_offset) >> page_shift}, an index at or
 *     beyond {@code nb_table} (which includes an ioba below the window, by unsigned wrap) is H_PARAMETER;
 * <li>the TCE is stored as given: no check of its address or permission bits;
 * <li>H_STUFF_TCE first rejects {@code npages > nb_table} with H_PARAMETER, writing nothing;
 * <li>H_STUFF_TCE and H_PUT_TCE_INDIRECT loop entry by entry and stop at the first error, leaving
 *     earlier entries written; their result starts as H_PARAMETER, so npages = 0 returns H_PARAMETER;
 * <li>H_PUT_TCE_INDIRECT checks {@code npages > 512} and the list's 4 KiB alignment first, then reads
 *     each TCE from guest memory big-endian ({@code ldq_be_phys}); a read outside RAM yields 0 (an
 *     unassigned-memory read), which then clears the entry;
 * <li>every written entry fires the window's IOMMU notifiers (UNMAP without permission bits, else MAP).
 * </ul>
 * Every entry read or written goes through one accessor that reports an index at or past {@code nb_table} to the
 * {@link HostMemoryListener} (QEMU never does it; a planted fault, {@link QemuPolicy.Planted}, can).
 */
public final class QemuTceHandlers {
    private final LongFunction<SpaprTceTable> tables;
    private final GuestMemory mem;
    private final long boundSlack;
    private final HostMemoryListener hostMemory;

    /**
     * @param planted a fault a mutation test plants ({@link QemuPolicy.Planted#NONE} as QEMU is)
     * @param hostMemory told when a handler indexes past a table
     */
    public QemuTceHandlers(LongFunction<SpaprTceTable> tables, GuestMemory mem, QemuPolicy.Planted planted, HostMemoryListener hostMemory) {
        this.tables = tables;
        this.mem = mem;
        this.boundSlack = planted == QemuPolicy.Planted.INDEX_BOUND_ONE_PAST ? 1 : 0;
        this.hostMemory = hostMemory;
    }

    public QemuTceHandlers(LongFunction<SpaprTceTable> tables, GuestMemory mem) {
        this(tables, mem, QemuPolicy.Planted.NONE, HostMemoryListener.NONE);
    }

    /** Dispatches the TCE hypercall in {@code regs.r3}; other opcodes are H_FUNCTION ({@code spapr_hypercall}). */
    public long hcall(HcallRegs regs) {
        long op = regs.r3;
        if (op == H_PUT_TCE) return putTce(regs.r4, regs.r5, regs.r6);
        if (op == H_PUT_TCE_INDIRECT) return putTceIndirect(regs.r4, regs.r5, regs.r6, regs.r7);
        if (op == H_STUFF_TCE) return stuffTce(regs.r4, regs.r5, regs.r6, regs.r7);
        if (op == H_GET_TCE) return getTce(regs);
        return H_FUNCTION;
    }

    public long getTce(HcallRegs regs) {
        SpaprTceTable tcet = tables.apply(regs.r4);
        if (tcet == null) return H_PARAMETER;
        long ioba = regs.r5 & tcet.table().pageMask();   // h_get_tce: ioba &= page_mask, then get_tce_emu
        long index = (ioba - tcet.busOffset()) >>> tcet.pageShift();
        if (!inBounds(tcet, index)) return H_PARAMETER;
        regs.r4 = read(tcet, index);
        return H_SUCCESS;
    }

    public long putTce(long liobn, long ioba, long tce) {
        SpaprTceTable tcet = tables.apply(liobn);
        if (tcet == null) return H_PARAMETER;
        return putTceEmu(tcet, ioba & tcet.table().pageMask(), tce);
    }

    public long stuffTce(long liobn, long ioba, long tceValue, long npages) {
        SpaprTceTable tcet = tables.apply(liobn);
        if (tcet == null) return H_PARAMETER;
        if (Long.compareUnsigned(npages, tcet.nbTable()) > 0) return H_PARAMETER;
        TceTable t = tcet.table();
        ioba &= t.pageMask();
        long ret = H_PARAMETER;
        for (long i = 0; Long.compareUnsigned(i, npages) < 0; i++, ioba += t.pageSize()) {
            ret = putTceEmu(tcet, ioba, tceValue);
            if (ret != H_SUCCESS) break;
        }
        return ret;
    }

    public long putTceIndirect(long liobn, long ioba, long tceList, long npages) {
        SpaprTceTable tcet = tables.apply(liobn);
        if (tcet == null) return H_PARAMETER;
        if (Long.compareUnsigned(npages, MAX_INDIRECT_TCES) > 0 || (tceList & (TCE_LIST_ALIGN - 1)) != 0) return H_PARAMETER;
        TceTable t = tcet.table();
        ioba &= t.pageMask();
        long ret = H_PARAMETER;
        for (int i = 0; i < npages; i++, ioba += t.pageSize()) {
            long addr = tceList + 8L * i;
            long tce = mem.contains(addr, 8) ? mem.readLongBE(addr) : 0;
            ret = putTceEmu(tcet, ioba, tce);
            if (ret != H_SUCCESS) break;
        }
        return ret;
    }

    /** {@code put_tce_emu}: one entry, bounds-checked, stored as given, notifiers fired. */
    private long putTceEmu(SpaprTceTable tcet, long ioba, long tce) {
        long index = (ioba - tcet.busOffset()) >>> tcet.pageShift();
        if (!inBounds(tcet, index)) return H_PARAMETER;
        if (!write(tcet, index, tce)) return H_SUCCESS;
        tcet.notifyEntry(tcet.table().offset() + index, tce);
        return H_SUCCESS;
    }

    /** The handlers' bound check, {@code index >= nb_table} is H_PARAMETER (unsigned: an ioba below the window wraps). */
    private boolean inBounds(SpaprTceTable tcet, long index) {
        return Long.compareUnsigned(index, tcet.nbTable() + boundSlack) < 0;
    }

    /** {@code tcet->table[index] = tce}; past {@code nb_table} it is host memory QEMU does not own: reported, nothing written. */
    private boolean write(SpaprTceTable tcet, long index, long tce) {
        if (pastTable(tcet, index, "put_tce_emu writes")) return false;
        tcet.table().put(tcet.table().offset() + index, tce);
        return true;
    }

    /** {@code tcet->table[index]}, as {@link #write}: past {@code nb_table}, reported and read as 0. */
    private long read(SpaprTceTable tcet, long index) {
        return pastTable(tcet, index, "get_tce_emu reads") ? 0 : tcet.table().get(tcet.table().offset() + index);
    }

    private boolean pastTable(SpaprTceTable tcet, long index, String access) {
        if (Long.compareUnsigned(index, tcet.nbTable()) < 0) return false;
        hostMemory.outside("qemu", String.format("%s tcet->table[0x%x] of LIOBN 0x%x", access, index, tcet.liobn()),
                String.format("the table has nb_table = 0x%x entries", tcet.nbTable()));
        return true;
    }
}
