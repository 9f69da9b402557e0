package tcesim.kvm;

import static tcesim.papr.Hcall.*;

import java.util.function.LongFunction;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.papr.TceTable;

/**
 * KVM's in-kernel TCE hypercall handlers, in their real-mode and virtual-mode forms.
 *
 * <p>Models Linux {@code arch/powerpc/kvm/book3s_64_vio.c} (virtual mode: {@code kvmppc_h_put_tce},
 * {@code kvmppc_h_put_tce_indirect}, {@code kvmppc_h_stuff_tce}) and {@code book3s_64_vio_hv.c}
 * (real mode, {@code kvmppc_rm_h_*} and {@code kvmppc_h_get_tce}; the real-mode forms were retired in
 * 2022 by "KVM: PPC: Book3s: Retire H_PUT_TCE/etc real mode handlers", so they are an option).
 *
 * <p>The rules, in the order KVM applies them:
 * <ul>
 * <li>Unknown LIOBN: H_TOO_HARD, so that QEMU may own the table ({@code kvmppc_find_table} fails).
 * <li>{@code kvmppc_ioba_validate}: ioba aligned to the table's page, {@code idx >= offset},
 *     {@code idx - offset + npages <= size}, {@code idx + npages} does not wrap; else H_PARAMETER.
 *     With npages = 0 the one-past-the-end ioba passes (nothing is then written). This is the
 *     whole-range check of the kernels that had their own {@code kvmppc_ioba_validate}
 *     (book3s_64_vio_hv.c, about v4.7 to v4.17). Since v4.18 the macro calls
 *     {@code iommu_tce_check_ioba()} (arch/powerpc/kernel/iommu.c), which checks alignment and the
 *     first entry only and ignores npages; the model keeps the whole-range rule so that no hypercall can
 *     reach past the table, and the difference is recorded here rather than reproduced.
 * <li>{@code kvmppc_tce_validate}: a TCE with no permission bit always passes ("allow userspace to
 *     poison TCE table"); otherwise its address must be aligned to the table's page
 *     ({@code iommu_tce_check_gpa}) and lie in a memslot ({@code kvmppc_tce_to_ua}); else H_TOO_HARD.
 *     Real mode's {@code kvmppc_rm_tce_validate} differs in one point: a misaligned address is
 *     H_PARAMETER there (returned to the guest, no fallback to virtual mode).
 * <li>H_PUT_TCE: after validation, a valid TCE whose address does not translate: H_PARAMETER.
 * <li>H_PUT_TCE_INDIRECT: {@code npages > 512} then {@code tce_list & 4095} (H_PARAMETER) are checked
 *     before the ioba; a list outside guest memory is H_TOO_HARD; every TCE of the list is validated
 *     before any is written; the write loop translates each TCE again, valid or not, and stops with
 *     H_PARAMETER at one that does not translate (entries before it stay written).
 * <li>H_STUFF_TCE: ioba validated first, then a value with a permission bit is H_PARAMETER
 *     ("Check permission bits only to allow userspace poison TCE for debug").
 * <li>H_GET_TCE: ioba validated; an entry of a never-allocated table page reads as 0.
 * <li>Attached hardware tables (VFIO) are exchanged entry by entry before the guest table is written and
 *     killed once per hypercall ({@code iommu_tce_kill}, batched since "KVM: PPC: Invalidate multiple
 *     TCEs at once", 2019).
 * <li>Real mode cannot allocate table pages nor sleep: it returns H_TOO_HARD when a valid TCE would go to
 *     a table page not yet allocated ({@code kvmppc_rm_ioba_validate} with {@code clearing == false}) or
 *     when an attachment needs virtual mode.
 * </ul>
 */
public final class KvmTceHandlers {

    /** Which of KVM's two handler sets runs. */
    public enum Mode { REAL, VIRTUAL }

    private final LongFunction<KvmSpaprTceTable> tables;
    private final GuestMemory mem;
    private final KvmPolicy policy;

    /**
     * @param tables LIOBN to KVM table lookup ({@code kvmppc_find_table}); null when KVM has no such table
     * @param mem the guest's memslots
     * @param policy the handler variant (stock kernel, or a design's change)
     */
    public KvmTceHandlers(LongFunction<KvmSpaprTceTable> tables, GuestMemory mem, KvmPolicy policy) {
        this.tables = tables;
        this.mem = mem;
        this.policy = policy;
    }

    /** Dispatches the TCE hypercall in {@code regs.r3}; any other opcode is H_TOO_HARD (left to userspace). */
    public long hcall(Mode mode, HcallRegs regs) {
        long op = regs.r3;
        if (op == H_PUT_TCE) return putTce(mode, regs.r4, regs.r5, regs.r6);
        if (op == H_PUT_TCE_INDIRECT) return putTceIndirect(mode, regs.r4, regs.r5, regs.r6, regs.r7);
        if (op == H_STUFF_TCE) return stuffTce(mode, regs.r4, regs.r5, regs.r6, regs.r7);
        if (op == H_GET_TCE) return getTce(regs);
        return H_TOO_HARD;
    }

    public long getTce(HcallRegs regs) {
        KvmSpaprTceTable stt = tables.apply(regs.r4);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        long rc = iobaValidate(t, regs.r5, 1);
        if (rc != H_SUCCESS) return rc;
        regs.r4 = t.get(regs.r5 >>> t.pageShift());
        return H_SUCCESS;
    }

    public long putTce(Mode mode, long liobn, long ioba, long tce) {
        KvmSpaprTceTable stt = tables.apply(liobn);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        long rc = iobaValidate(t, ioba, 1);
        if (rc != H_SUCCESS) return rc;
        if (mode == Mode.REAL) {
            rc = realModeCheck(stt, ioba, 1, tce == 0);
            if (rc != H_SUCCESS) return rc;
        }
        rc = tceValidate(mode, t, tce);
        if (rc != H_SUCCESS) return rc;
        if (Tce.valid(tce) && !translates(tce)) return H_PARAMETER;
        long idx = ioba >>> t.pageShift();
        for (AttachedTable a : stt.attached()) {
            rc = a.exchange(idx, Tce.gpa(tce), Tce.perm(tce));
            a.kill(idx, 1);
            if (rc != H_SUCCESS) {
                // kvmppc_clear_tce(): the hardware entry is cleared, the guest table is left as it was.
                a.exchange(idx, 0, 0);
                return rc;
            }
        }
        t.put(idx, tce);
        return H_SUCCESS;
    }

    public long putTceIndirect(Mode mode, long liobn, long ioba, long tceList, long npages) {
        KvmSpaprTceTable stt = tables.apply(liobn);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        if (Long.compareUnsigned(npages, MAX_INDIRECT_TCES) > 0) return H_PARAMETER;
        if ((tceList & (TCE_LIST_ALIGN - 1)) != 0) return H_PARAMETER;
        long rc = iobaValidate(t, ioba, npages);
        if (rc != H_SUCCESS) return rc;
        if (mode == Mode.REAL) {
            rc = realModeCheck(stt, ioba, npages, false);
            if (rc != H_SUCCESS) return rc;
        }
        int n = (int) npages;
        // kvmppc_tce_to_ua(tce_list): the list's page must be in a memslot, whatever npages (even 0).
        // The list is 4 KiB aligned and RAM a multiple of 4 KiB, so its first byte decides.
        if (!mem.contains(tceList, 1)) return H_TOO_HARD;
        for (int i = 0; i < n; i++) {
            rc = tceValidate(mode, t, mem.readLongBE(tceList + 8L * i));
            if (rc != H_SUCCESS) return rc;
        }
        long entry = ioba >>> t.pageShift();
        rc = H_SUCCESS;
        for (int i = 0; i < n && rc == H_SUCCESS; i++) {
            long tce = mem.readLongBE(tceList + 8L * i);
            if (!translates(tce)) {
                rc = H_PARAMETER;
                break;
            }
            for (AttachedTable a : stt.attached()) {
                rc = a.exchange(entry + i, Tce.gpa(tce), Tce.perm(tce));
                if (rc != H_SUCCESS) {
                    // kvmppc_clear_tce(): the failing hardware entry is cleared, as in H_PUT_TCE.
                    a.exchange(entry + i, 0, 0);
                    break;
                }
            }
            if (rc != H_SUCCESS) break;
            t.put(entry + i, tce);
        }
        for (AttachedTable a : stt.attached()) a.kill(entry, npages);
        return rc;
    }

    public long stuffTce(Mode mode, long liobn, long ioba, long tceValue, long npages) {
        KvmSpaprTceTable stt = tables.apply(liobn);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        long rc = iobaValidate(t, ioba, npages);
        if (rc != H_SUCCESS) return rc;
        if (mode == Mode.REAL) {
            rc = realModeCheck(stt, ioba, npages, tceValue == 0);
            if (rc != H_SUCCESS) return rc;
        }
        if ((tceValue & Tce.PERM_MASK) != 0) return H_PARAMETER;
        if (policy.stuffZeroToUserspace() && tceValue == 0) return H_TOO_HARD;
        long entry = ioba >>> t.pageShift();
        for (AttachedTable a : stt.attached()) {
            for (long i = 0; i < npages; i++) {
                rc = a.exchange(entry + i, 0, 0);
                if (rc != H_SUCCESS) {
                    for (AttachedTable k : stt.attached()) k.kill(entry, npages);
                    return rc;
                }
            }
        }
        for (long i = 0; i < npages; i++) t.put(entry + i, tceValue);
        for (AttachedTable a : stt.attached()) a.kill(entry, npages);
        return H_SUCCESS;
    }

    /** {@code kvmppc_ioba_validate}. */
    static long iobaValidate(TceTable t, long ioba, long npages) {
        long mask = t.pageSize() - 1;
        long idx = ioba >>> t.pageShift();
        if ((ioba & mask) != 0) return H_PARAMETER;
        if (idx < t.offset()) return H_PARAMETER;
        if (Long.compareUnsigned(idx - t.offset() + npages, t.size()) > 0) return H_PARAMETER;
        if (Long.compareUnsigned(idx + npages, idx) < 0) return H_PARAMETER;
        return H_SUCCESS;
    }

    /** {@code kvmppc_tce_validate} (virtual mode) / {@code kvmppc_rm_tce_validate} (real mode). */
    long tceValidate(Mode mode, TceTable t, long tce) {
        if (!Tce.valid(tce)) return H_SUCCESS;
        long gpa = Tce.gpa(tce);
        if ((gpa & (t.pageSize() - 1)) != 0) return mode == Mode.REAL ? H_PARAMETER : H_TOO_HARD;
        if (!translates(tce)) return H_TOO_HARD;
        return H_SUCCESS;
    }

    /** {@code kvmppc_tce_to_ua}: the TCE's address lies in a memslot. */
    private boolean translates(long tce) {
        return mem.contains(Tce.gpa(tce), 1);
    }

    /** What real mode cannot do: allocate table pages (unless only clearing), or drive an attachment that needs virtual mode. */
    private static long realModeCheck(KvmSpaprTceTable stt, long ioba, long npages, boolean clearing) {
        if (!stt.realModeCapable()) return H_TOO_HARD;
        if (clearing) return H_SUCCESS;
        if (npages == 0) return H_SUCCESS;
        TceTable t = stt.table();
        long rel = (ioba >>> t.pageShift()) - t.offset();
        for (long c = rel >>> TceTable.CHUNK_SHIFT; c <= (rel + npages - 1) >>> TceTable.CHUNK_SHIFT; c++) {
            if (!t.isBacked(t.offset() + (c << TceTable.CHUNK_SHIFT))) return H_TOO_HARD;
        }
        return H_SUCCESS;
    }
}
