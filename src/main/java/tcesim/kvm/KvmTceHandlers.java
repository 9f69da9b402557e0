package tcesim.kvm;

import static tcesim.papr.Hcall.*;

import java.util.function.LongFunction;
import tcesim.kvm.HostCaps.HostKernel;
import tcesim.kvm.HostCaps.RealMode;
import tcesim.mem.GuestMemory;
import tcesim.mem.HostMemoryListener;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.papr.TceTable;

/**
 * KVM's in-kernel TCE hypercall handlers, in their real-mode and virtual-mode forms, as the host's kernel
 * era and CPU have them ({@link HostCaps}).
 *
 * <p>Models Linux {@code arch/powerpc/kvm/book3s_64_vio.c} (virtual mode: {@code kvmppc_h_put_tce},
 * {@code kvmppc_h_put_tce_indirect}, {@code kvmppc_h_stuff_tce}) and {@code book3s_64_vio_hv.c} (real
 * mode, {@code kvmppc_rm_h_*} and {@code kvmppc_h_get_tce}), as in late-2019 trees; the 2022 kernel's
 * changes are listed where they apply. Sources read: book3s_64_vio.c / book3s_64_vio_hv.c of a Dec 2019
 * tree (the seed author's, LeoBras/linux), the patches "KVM: PPC: Invalidate multiple TCEs at once"
 * (26 Aug 2019), "KVM: PPC: Fix TCE handling for VFIO" (6 Apr 2022) and "KVM: PPC: Book3s: Retire
 * H_PUT_TCE/etc real mode handlers" (cad32d9d42e8, May 2022), and torvalds/linux book3s_64_vio.c after them.
 *
 * <p>The rules, in the order KVM applies them:
 * <ul>
 * <li>Real mode first, when the host has it ({@link HostCaps#realMode()}): on a POWER9 radix guest (2019)
 *     {@code kvmppc_rm_h_put_tce}, {@code _put_tce_indirect} and {@code _stuff_tce} return H_TOO_HARD
 *     before anything else, even before the LIOBN lookup ("For radix, we might be in virtual mode, so
 *     punt"); H_GET_TCE has no such check. On a 2022 kernel there is no real-mode handler at all: a call
 *     made in {@link Mode#REAL} is H_TOO_HARD (nothing in {@code hcall_real_table}).
 * <li>Unknown LIOBN: H_TOO_HARD, so that QEMU may own the table ({@code kvmppc_find_table} fails).
 * <li>{@code kvmppc_ioba_validate}, by era ({@link HostCaps.HostKernel#iobaChecksEveryEntry}): on 2019 and 2022
 *     kernels the macro calls {@code iommu_tce_check_ioba()} (arch/powerpc/kernel/iommu.c): ioba aligned to the
 *     table's page, {@code idx >= offset}, {@code idx + 1 <= offset + size}, npages ignored; so a multi-TCE call
 *     starting in the window and running past its end passes, and the write loops index past the window: into the
 *     slack of the table's last page (KVM's own memory, nothing to model) and, for a range that gets that far, past
 *     {@code stt->pages[]} (host memory: reported to the {@link HostMemoryListener}, nothing written). With npages = 0
 *     the one-past-the-end ioba fails. On current kernels (0b271f7d7f5e) the whole range is checked:
 *     {@code idx - offset + npages <= size}, {@code idx + npages} does not wrap; with npages = 0 the
 *     one-past-the-end ioba passes (nothing is then written).
 * <li>{@code kvmppc_tce_validate}: a TCE with no permission bit always passes ("allow userspace to
 *     poison TCE table"); otherwise its address must be aligned to the table's page
 *     ({@code iommu_tce_check_gpa}) and lie in a memslot ({@code kvmppc_tce_to_ua}), and, for each attached
 *     hardware table, in memory preregistered for it ({@code mm_iommu_lookup(mm, ua, 1ULL <<
 *     it_page_shift)}, {@link AttachedTable#validate}); else H_TOO_HARD. Real mode's
 *     {@code kvmppc_rm_tce_validate} differs in one point: a misaligned address is H_PARAMETER there
 *     (returned to the guest, no fallback to virtual mode). So an H_PUT_TCE_INDIRECT list holding a TCE
 *     outside preregistered memory fails before any entry is written.
 * <li>H_PUT_TCE: after validation, a valid TCE whose address does not translate: H_PARAMETER.
 * <li>H_PUT_TCE_INDIRECT: {@code npages > 512} then {@code tce_list & 4095} (H_PARAMETER) are checked
 *     before the ioba; a list outside guest memory is H_TOO_HARD; every TCE of the list is validated
 *     before any is written; the write loop translates each TCE again, valid or not, and stops with
 *     H_PARAMETER at one that does not translate (entries before it stay written).
 * <li>H_STUFF_TCE: ioba validated first, then a value with a permission bit is H_PARAMETER
 *     ("Check permission bits only to allow userspace poison TCE for debug"). Design D1's H_TOO_HARD for
 *     a zero value comes after both (see {@link #stuffTce}).
 * <li>H_GET_TCE: ioba validated; an entry of a never-allocated table page reads as 0.
 * <li>Attached hardware tables (VFIO) are exchanged entry by entry before the guest table is written;
 *     invalidation of the PHB's TCE cache ({@code iommu_tce_kill}) depends on the kernel era, see
 *     {@link #putTceIndirect} and {@link #stuffTce}. Links of the designs (D3, D4) attach through the same
 *     hook and see the same kills.
 * <li>Real mode cannot allocate table pages nor sleep: it returns H_TOO_HARD when a non-clearing call would
 *     touch a table page not yet allocated ({@code kvmppc_rm_ioba_validate} with {@code clearing ==
 *     false}), or when an attachment needs virtual mode.
 * </ul>
 *
 * <p>Not modelled: the real-mode failures that depend on host memory management (a TCE list page that
 * {@code kvmppc_rm_ua_to_hpa} cannot translate because its PTE is huge or not young, the rmap lock,
 * "real mode xchg can fail if struct page crosses a page boundary", the delayed {@code it_userspace}
 * allocation), which all return H_TOO_HARD to virtual mode; hardware tables with smaller pages than the
 * guest's (sub-pages); the accounting of {@code mm_iommu_mapped_inc/dec}; WARN output.
 */
public final class KvmTceHandlers {

    /** Which of KVM's two handler sets runs. */
    public enum Mode { REAL, VIRTUAL }

    private final LongFunction<KvmSpaprTceTable> tables;
    private final GuestMemory mem;
    private final KvmPolicy policy;
    private final HostCaps host;
    private final HostMemoryListener hostMemory;

    /**
     * @param tables LIOBN to KVM table lookup ({@code kvmppc_find_table}); null when KVM has no such table
     * @param mem the guest's memslots
     * @param policy the handler variant (stock kernel, or a design's change)
     * @param host the host: its real-mode behaviour and kernel era
     * @param hostMemory told when a handler indexes past a table it owns (kernels whose ioba check lets it)
     */
    public KvmTceHandlers(LongFunction<KvmSpaprTceTable> tables, GuestMemory mem, KvmPolicy policy, HostCaps host, HostMemoryListener hostMemory) {
        this.tables = tables;
        this.mem = mem;
        this.policy = policy;
        this.host = host;
        this.hostMemory = hostMemory;
    }

    public KvmTceHandlers(LongFunction<KvmSpaprTceTable> tables, GuestMemory mem, KvmPolicy policy, HostCaps host) {
        this(tables, mem, policy, host, HostMemoryListener.NONE);
    }

    /** Handlers of a POWER8 host on a 2019 kernel: the one where both handler sets do their full work. */
    public KvmTceHandlers(LongFunction<KvmSpaprTceTable> tables, GuestMemory mem, KvmPolicy policy) {
        this(tables, mem, policy, HostCaps.POWERNV8_HV);
    }

    /** Dispatches the TCE hypercall in {@code regs.r3}; any other opcode is H_TOO_HARD (left to userspace). */
    public long hcall(Mode mode, HcallRegs regs) {
        long op = regs.r3;
        if (mode == Mode.REAL) {
            RealMode rm = host.realMode();
            // 2022: the real-mode handlers are gone ("Retire H_PUT_TCE/etc real mode handlers").
            if (rm == RealMode.NONE) return H_TOO_HARD;
            // 2019, radix guest: kvmppc_rm_h_put_tce / _put_tce_indirect / _stuff_tce punt at their first line,
            // before kvmppc_find_table; kvmppc_h_get_tce has no radix check (book3s_64_vio_hv.c, late 2019).
            if (rm == RealMode.PUNTS && op != H_GET_TCE) return H_TOO_HARD;
        }
        if (op == H_GET_TCE) return getTce(regs);
        long rc;
        if (op == H_PUT_TCE) rc = putTce(mode, regs.r4, regs.r5, regs.r6);
        else if (op == H_PUT_TCE_INDIRECT) rc = putTceIndirect(mode, regs.r4, regs.r5, regs.r6, regs.r7);
        else if (op == H_STUFF_TCE) rc = stuffTce(mode, regs.r4, regs.r5, regs.r6, regs.r7);
        else return H_TOO_HARD;
        KvmSpaprTceTable stt = tables.apply(regs.r4);
        if (stt != null) for (AttachedTable a : stt.attached()) a.hypercallDone();
        return rc;
    }

    public long getTce(HcallRegs regs) {
        KvmSpaprTceTable stt = tables.apply(regs.r4);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        long rc = iobaValidate(t, regs.r5, 1);
        if (rc != H_SUCCESS) return rc;
        regs.r4 = tceGet(t, regs.r5 >>> t.pageShift());
        return H_SUCCESS;
    }

    public long putTce(Mode mode, long liobn, long ioba, long tce) {
        KvmSpaprTceTable stt = tables.apply(liobn);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        long rc = iobaValidate(t, ioba, 1);
        if (rc != H_SUCCESS) return rc;
        if (mode == Mode.REAL) {
            rc = realModeCheck(stt, ioba, 1, tce == 0, "H_PUT_TCE");
            if (rc != H_SUCCESS) return rc;
        }
        rc = tceValidate(mode, stt, tce);
        if (rc != H_SUCCESS) return rc;
        if (Tce.valid(tce) && !translates(tce)) return H_PARAMETER;
        long idx = ioba >>> t.pageShift();
        if (!t.contains(idx)) {
            tcePut(t, "H_PUT_TCE", idx, tce);
            return H_SUCCESS;
        }
        for (AttachedTable a : stt.attached()) {
            // One kill for the one entry in both eras: kvmppc_h_put_tce's iommu_tce_kill(tbl, entry, 1) after
            // the map/unmap (2019), the kill at the end of kvmppc_tce_iommu_map/unmap (2022).
            rc = a.exchange(idx, Tce.gpa(tce), Tce.perm(tce));
            a.kill(idx, 1);
            if (rc != H_SUCCESS) {
                // kvmppc_clear_tce(): the hardware entry is cleared (after the kill), the guest table is left as it was.
                a.exchange(idx, 0, 0);
                return rc;
            }
        }
        tcePut(t, "H_PUT_TCE", idx, tce);
        return H_SUCCESS;
    }

    /**
     * H_PUT_TCE_INDIRECT. Kills: on a 2019 kernel one {@code iommu_tce_kill(tbl, entry, npages)} per attached
     * table at {@code invalidate_exit}, reached after the write loop whether it finished or stopped; on a 2022
     * kernel one kill per entry from {@code kvmppc_tce_iommu_map} and none at the end ("KVM: PPC: Fix TCE
     * handling for VFIO" removed {@code invalidate_exit}). A failed exchange clears a hardware entry with
     * {@code kvmppc_clear_tce}: the first entry of the call in 2019 ({@code entry}), the failing one in 2022
     * ({@code entry + i}, the same patch).
     */
    public long putTceIndirect(Mode mode, long liobn, long ioba, long tceList, long npages) {
        KvmSpaprTceTable stt = tables.apply(liobn);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        if (Long.compareUnsigned(npages, MAX_INDIRECT_TCES) > 0) return H_PARAMETER;
        if ((tceList & (TCE_LIST_ALIGN - 1)) != 0) return H_PARAMETER;
        long rc = iobaValidate(t, ioba, npages);
        if (rc != H_SUCCESS) return rc;
        if (mode == Mode.REAL) {
            rc = realModeCheck(stt, ioba, npages, false, "H_PUT_TCE_INDIRECT");
            if (rc != H_SUCCESS) return rc;
        }
        int n = (int) npages;
        // kvmppc_tce_to_ua(tce_list): the list's page must be in a memslot, whatever npages (even 0).
        // The list is 4 KiB aligned and RAM a multiple of 4 KiB, so its first byte decides.
        if (!mem.contains(tceList, 1)) return H_TOO_HARD;
        for (int i = 0; i < n; i++) {
            rc = tceValidate(mode, stt, mem.readLongBE(tceList + 8L * i));
            if (rc != H_SUCCESS) return rc;
        }
        boolean batched = host.kernel().batchedKills();
        long entry = ioba >>> t.pageShift();
        rc = H_SUCCESS;
        write:
        for (int i = 0; i < n; i++) {
            long tce = mem.readLongBE(tceList + 8L * i);
            if (!translates(tce)) {
                rc = H_PARAMETER;
                break;
            }
            if (!t.contains(entry + i)) {
                // The hardware tables have the window's geometry: the write below is the first access past a bound.
                tcePut(t, "H_PUT_TCE_INDIRECT", entry + i, tce);
                continue;
            }
            for (AttachedTable a : stt.attached()) {
                rc = a.exchange(entry + i, Tce.gpa(tce), Tce.perm(tce));
                if (!batched) a.kill(entry + i, 1);
                if (rc != H_SUCCESS) {
                    a.exchange(batched ? entry : entry + i, 0, 0);
                    break write;
                }
            }
            tcePut(t, "H_PUT_TCE_INDIRECT", entry + i, tce);
        }
        if (batched) for (AttachedTable a : stt.attached()) kill(a, t, entry, npages);
        return rc;
    }

    /**
     * H_STUFF_TCE. For each attached table, each entry is unmapped; an H_TOO_HARD from the exchange ends the
     * call with nothing written to the guest table; any other error is a {@code WARN_ON_ONCE}: the hardware
     * entry is cleared ({@code kvmppc_clear_tce}: {@code entry}, the first of the call, in 2019;
     * {@code entry + i} in 2022) and the loop goes on; then the guest table is written and the last exchange's
     * return code returned.
     *
     * <p>Kills (2019, "KVM: PPC: Invalidate multiple TCEs at once", Aug 2019): one per table at
     * {@code invalidate_exit}, {@code iommu_tce_kill(stit->tbl, ioba >> stt->page_shift, npages)}, reached
     * after the put loop {@code for (i = 0; i < npages; ++i, ioba += 1ULL << stt->page_shift)} has advanced
     * ioba by npages pages: on success the kill covers {@code [entry + npages, entry + 2 * npages)}, not the
     * cleared entries, and the PHB's TCE cache keeps them until something kills them. Only the H_TOO_HARD
     * path (ioba not yet advanced) kills the right range. In 2022 ("KVM: PPC: Fix TCE handling for VFIO")
     * {@code kvmppc_tce_iommu_unmap} kills each entry it unmaps and the batched kill is gone.
     *
     * <p>Design D1 (the Dec 2019 patch: H_TOO_HARD for a zero value, so that QEMU clears and notifies vhost):
     * the patch's source was not available (the seed thread quotes none of it); the check is placed where
     * the patch most plausibly had it, after the ioba and permission checks, next to the existing
     * {@code tce_value} test, and in both handler sets. The observable consequence, pinned by a test: a zero
     * STUFF with a bad ioba still fails in the kernel with H_PARAMETER instead of exiting to QEMU (which
     * would mask a misaligned ioba and clear).
     */
    public long stuffTce(Mode mode, long liobn, long ioba, long tceValue, long npages) {
        KvmSpaprTceTable stt = tables.apply(liobn);
        if (stt == null) return H_TOO_HARD;
        TceTable t = stt.table();
        long rc = iobaValidate(t, ioba, npages);
        if (rc != H_SUCCESS) return rc;
        if (mode == Mode.REAL) {
            rc = realModeCheck(stt, ioba, npages, tceValue == 0, "H_STUFF_TCE");
            if (rc != H_SUCCESS) return rc;
        }
        if ((tceValue & Tce.PERM_MASK) != 0) return H_PARAMETER;
        if (policy.stuffZeroToUserspace() && tceValue == 0) return H_TOO_HARD;
        boolean batched = host.kernel().batchedKills();
        long entry = ioba >>> t.pageShift();
        // Where the ioba check let the range run past the window, the loops below stop at its end (npages may be near
        // 2^64, a loop the model does not run out) and the first entry past the table's pages, if the range gets there,
        // is reported after them.
        long inWindow = Long.compareUnsigned(npages, t.offset() + t.size() - entry) > 0 ? t.offset() + t.size() - entry : npages;
        for (AttachedTable a : stt.attached()) {
            for (long i = 0; i < inWindow; i++) {
                rc = a.exchange(entry + i, 0, 0);
                if (!batched) a.kill(entry + i, 1);
                if (rc == H_SUCCESS) continue;
                if (rc == H_TOO_HARD) {
                    if (batched) for (AttachedTable k : stt.attached()) kill(k, t, entry, npages);
                    return rc;
                }
                // WARN_ON_ONCE(1); kvmppc_clear_tce(); carry on.
                a.exchange(batched ? entry : entry + i, 0, 0);
            }
        }
        for (long i = 0; i < inWindow; i++) tcePut(t, "H_STUFF_TCE", entry + i, tceValue);
        long pastPages = t.offset() + ((long) t.pages() << TceTable.CHUNK_SHIFT);
        if (Long.compareUnsigned(npages, pastPages - entry) > 0) tcePut(t, "H_STUFF_TCE", pastPages, tceValue);
        if (batched) for (AttachedTable a : stt.attached()) kill(a, t, entry + npages, npages);
        return rc;
    }

    /** {@code kvmppc_ioba_validate} as this host's kernel era has it (and as a planted fault bends it). */
    private long iobaValidate(TceTable t, long ioba, long npages) {
        long extra = policy.planted() == KvmPolicy.Planted.IOBA_BOUND_ONE_PAST ? 1 : 0;
        return iobaValidate(t, ioba, npages, host.kernel().iobaChecksEveryEntry(), extra);
    }

    static long iobaValidate(TceTable t, long ioba, long npages, boolean everyEntry) {
        return iobaValidate(t, ioba, npages, everyEntry, 0);
    }

    /**
     * {@code kvmppc_ioba_validate}: with {@code everyEntry} the whole range (current kernels), else alignment and the
     * first entry only ({@code iommu_tce_check_ioba} from b1af23d836f8 "KVM: PPC: iommu: Unify TCE checking", v4.12, to
     * 0b271f7d7f5e, whose message says so).
     */
    private static long iobaValidate(TceTable t, long ioba, long npages, boolean everyEntry, long extra) {
        long mask = t.pageSize() - 1;
        long idx = ioba >>> t.pageShift();
        if ((ioba & mask) != 0) return H_PARAMETER;
        if (idx < t.offset()) return H_PARAMETER;
        if (!everyEntry) return idx - t.offset() + 1 > t.size() + extra ? H_PARAMETER : H_SUCCESS;
        if (Long.compareUnsigned(idx - t.offset() + npages, t.size() + extra) > 0) return H_PARAMETER;
        if (Long.compareUnsigned(idx + npages, idx) < 0) return H_PARAMETER;
        return H_SUCCESS;
    }

    /**
     * A batched {@code iommu_tce_kill(tbl, start, n)}: what it can drop is the part of {@code [start, start + n)} inside
     * the window (nothing is cached past it), so the range is cut to the window; a call whose range lies wholly outside
     * (an npages the first-entry ioba check let through, or the off-by-npages range past the end) kills nothing.
     */
    private static void kill(AttachedTable a, TceTable t, long start, long n) {
        long end = t.offset() + t.size();
        if (Long.compareUnsigned(start, end) >= 0 || n == 0) return;
        long from = Math.max(start, t.offset());
        long room = end - start;
        long to = Long.compareUnsigned(n, room) > 0 ? end : start + n;
        if (to > from) a.kill(from, to - from);
    }

    /**
     * {@code kvmppc_tce_put}: every entry KVM writes goes through here, whatever the handler checked before. The table
     * owns whole pages ({@code kvmppc_tce_pages} rounds {@code size} up to {@code TCES_PER_PAGE} entries): an index past
     * the window but in the last page's slack lands in KVM's own page, where nothing reads it (QEMU maps
     * {@code nb_table} entries, every handler checks at least the first entry), so the model has nothing to keep; an
     * index past the last page reads {@code stt->pages[]} past its end, host memory KVM does not own: it is reported and
     * nothing is written.
     */
    private void tcePut(TceTable t, String hcall, long idx, long tce) {
        if (t.contains(idx)) t.put(idx, tce);
        else if (pageOf(t, idx) >= t.pages()) pastTheArray(t, hcall + " writes", idx);
    }

    /** {@code kvmppc_tce_get} (H_GET_TCE): as {@link #tcePut}; the slack reads as 0, past the array is reported. */
    private long tceGet(TceTable t, long idx) {
        if (t.contains(idx)) return t.get(idx);
        if (pageOf(t, idx) >= t.pages()) pastTheArray(t, "H_GET_TCE reads", idx);
        return 0;
    }

    private static long pageOf(TceTable t, long idx) {
        return (idx - t.offset()) >>> TceTable.CHUNK_SHIFT;
    }

    private void pastTheArray(TceTable t, String what, long idx) {
        long pages = t.pages();
        hostMemory.outside("kvm", String.format("%s TCE table entry 0x%x through stt->pages[%d], past the array", what, idx, pageOf(t, idx)),
                String.format("the window has 0x%x entries (0x%x..0x%x) in %d table page%s", t.size(), t.offset(), t.offset() + t.size() - 1, pages, pages == 1 ? "" : "s"));
    }

    /** {@code kvmppc_tce_validate} (virtual mode) / {@code kvmppc_rm_tce_validate} (real mode). */
    long tceValidate(Mode mode, KvmSpaprTceTable stt, long tce) {
        if (!Tce.valid(tce)) return H_SUCCESS;
        TceTable t = stt.table();
        long gpa = Tce.gpa(tce);
        if ((gpa & (t.pageSize() - 1)) != 0) return mode == Mode.REAL ? H_PARAMETER : H_TOO_HARD;
        if (!translates(tce)) return H_TOO_HARD;
        // list_for_each_entry_rcu(stit, &stt->iommu_tables, next): mm_iommu_lookup(_rm) and mm_iommu_ua_to_hpa(_rm).
        for (AttachedTable a : stt.attached()) {
            long rc = a.validate(gpa);
            if (rc != H_SUCCESS) return rc;
        }
        return H_SUCCESS;
    }

    /** {@code kvmppc_tce_to_ua}: the TCE's address lies in a memslot. */
    private boolean translates(long tce) {
        return mem.contains(Tce.gpa(tce), 1);
    }

    /**
     * What real mode cannot do: drive an attachment that needs virtual mode, or write a non-zero value into a
     * table page not yet allocated. {@code kvmppc_rm_ioba_validate} looks at table pages {@code idx /
     * TCES_PER_PAGE} onwards, {@code ALIGN_UP(idx % TCES_PER_PAGE + npages, TCES_PER_PAGE) / TCES_PER_PAGE} of
     * them ({@code idx} relative to the window): with npages = 0 that is still the one page holding idx, unless
     * idx is the first entry of its page.
     */
    private long realModeCheck(KvmSpaprTceTable stt, long ioba, long npages, boolean clearing, String hcall) {
        if (!stt.realModeCapable()) return H_TOO_HARD;
        if (clearing) return H_SUCCESS;
        TceTable t = stt.table();
        long rel = (ioba >>> t.pageShift()) - t.offset();
        long firstPage = rel >>> TceTable.CHUNK_SHIFT;
        long inPage = rel & (TceTable.CHUNK_ENTRIES - 1);
        if (npages == 0 && inPage == 0) return H_SUCCESS;
        long tablePages = t.pages();
        // The pages from the one holding idx until they cover npages entries (npages may be huge where only the
        // first entry was checked), stopping at the first unallocated one.
        for (long p = firstPage; ; p++) {
            if (p >= tablePages) {
                // kvmppc_rm_ioba_validate reads stt->pages[p] past the array (the first-entry ioba check let the call in).
                hostMemory.outside("kvm", String.format("%s (real mode) reads stt->pages[%d], past the array", hcall, p),
                        String.format("the window's table has %d page%s", tablePages, tablePages == 1 ? "" : "s"));
                return H_TOO_HARD;
            }
            if (!t.isBacked(t.offset() + (p << TceTable.CHUNK_SHIFT))) return H_TOO_HARD;
            if (Long.compareUnsigned(((p + 1) << TceTable.CHUNK_SHIFT) - rel, npages) >= 0) return H_SUCCESS;
        }
    }
}
