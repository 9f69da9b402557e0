package tcesim.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.kvm.HostCaps.HostKernel.K2022;
import static tcesim.papr.Hcall.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import tcesim.kvm.KvmTceHandlers.Mode;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;

/** Exact rules of KVM's TCE handlers (book3s_64_vio.c / book3s_64_vio_hv.c). */
class KvmTceHandlersTest {
    static final long RAM = 64L << 20;
    static final long L4K = 0x80000000L, L64K = 0x80000001L, L16M = 0x80000002L, LBIG = 0x80000100L;
    static final long UNKNOWN = 0x80000005L;
    static final long LIST = 0x20000;   // a 4 KiB-aligned page in RAM for TCE lists

    final GuestMemory mem = new GuestMemory(RAM);
    final Map<Long, KvmSpaprTceTable> tables = new HashMap<>();
    final KvmSpaprTceTable t4k = add(L4K, 12, 0x100, 1024);
    final KvmSpaprTceTable t64k = add(L64K, 16, (1L << 59) >>> 16, 600);
    final KvmSpaprTceTable t16m = add(L16M, 24, 4, 8);
    final KvmSpaprTceTable tBig = add(LBIG, 12, 5000, 3L * TceTable.CHUNK_ENTRIES);
    /** What the handlers reported reading or writing past a table (host memory). */
    final List<String> hostMemory = new ArrayList<>();
    KvmTceHandlers h = new KvmTceHandlers(tables::get, mem, KvmPolicy.STOCK, HostCaps.POWERNV8_HV, (who, a, b) -> hostMemory.add(a + " / " + b));

    /** Handlers of a current kernel, which checks every entry a call names (virtual mode only). */
    KvmTceHandlers current() {
        return new KvmTceHandlers(tables::get, mem, KvmPolicy.STOCK, HostCaps.POWERNV8_HV.withKernel(HostCaps.HostKernel.CURRENT),
                (who, a, b) -> hostMemory.add(a + " / " + b));
    }

    KvmSpaprTceTable add(long liobn, int shift, long offset, long size) {
        KvmSpaprTceTable s = new KvmSpaprTceTable(new TceTable(liobn, shift, offset, size));
        tables.put(liobn, s);
        return s;
    }

    static long ioba(KvmSpaprTceTable s, long idx) { return idx << s.table().pageShift(); }
    static long first(KvmSpaprTceTable s) { return s.table().offset(); }
    static long end(KvmSpaprTceTable s) { return s.table().offset() + s.table().size(); }

    long put(Mode m, long liobn, long ioba, long tce) { return h.hcall(m, HcallRegs.of(H_PUT_TCE, liobn, ioba, tce)); }
    long stuff(Mode m, long liobn, long ioba, long v, long n) { return h.hcall(m, HcallRegs.of(H_STUFF_TCE, liobn, ioba, v, n)); }
    long indirect(Mode m, long liobn, long ioba, long list, long n) { return h.hcall(m, HcallRegs.of(H_PUT_TCE_INDIRECT, liobn, ioba, list, n)); }

    void writeList(long list, long... tces) {
        for (int i = 0; i < tces.length; i++) mem.writeLongBE(list + 8L * i, tces[i]);
    }

    /** Entries of {@code s} at absolute indexes [from, from + n). */
    static long[] entries(KvmSpaprTceTable s, long from, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = s.table().get(from + i);
        return out;
    }

    // ---- LIOBN and opcode ------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Mode.class)
    void unknownLiobnIsTooHardForEveryHcall(Mode m) {
        assertThat(put(m, UNKNOWN, 0, 0x1003)).isEqualTo(H_TOO_HARD);
        assertThat(stuff(m, UNKNOWN, 0, 0, 1)).isEqualTo(H_TOO_HARD);
        assertThat(indirect(m, UNKNOWN, 0, LIST, 1)).isEqualTo(H_TOO_HARD);
        // LIOBN first: even with npages > 512 and a misaligned list.
        assertThat(indirect(m, UNKNOWN, 0, LIST + 8, 513)).isEqualTo(H_TOO_HARD);
        HcallRegs r = HcallRegs.of(H_GET_TCE, UNKNOWN, 0);
        assertThat(h.hcall(m, r)).isEqualTo(H_TOO_HARD);
        assertThat(r.r4).isEqualTo(UNKNOWN);
    }

    @Test
    void otherOpcodesAreLeftToUserspace() {
        assertThat(h.hcall(Mode.VIRTUAL, HcallRegs.of(0x1D, L4K, 0))).isEqualTo(H_TOO_HARD);
        assertThat(h.hcall(Mode.REAL, HcallRegs.of(0, L4K, 0))).isEqualTo(H_TOO_HARD);
    }

    // ---- ioba ------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Mode.class)
    void misalignedIobaIsParameter(Mode m) {
        long a = ioba(t64k, first(t64k)) + 0x1000;
        assertThat(put(m, L64K, a, 0)).isEqualTo(H_PARAMETER);
        assertThat(stuff(m, L64K, a, 0, 1)).isEqualTo(H_PARAMETER);
        assertThat(indirect(m, L64K, a, LIST, 1)).isEqualTo(H_PARAMETER);
        assertThat(h.hcall(m, HcallRegs.of(H_GET_TCE, L64K, a))).isEqualTo(H_PARAMETER);
        assertThat(put(m, L4K, ioba(t4k, first(t4k)) + 8, 0)).isEqualTo(H_PARAMETER);
        assertThat(put(m, L16M, ioba(t16m, first(t16m)) + (1 << 20), 0)).isEqualTo(H_PARAMETER);
    }

    @ParameterizedTest
    @ValueSource(longs = {L4K, L64K, L16M})
    void windowEdgesAtEachPageShiftWithNonZeroOffset(long liobn) {
        KvmSpaprTceTable s = tables.get(liobn);
        long shift = s.table().pageShift();
        long tceA = (1L << shift) | 3, tceB = (2L << shift) | 1;   // page aligned for the table, in RAM
        assertThat(put(Mode.VIRTUAL, liobn, ioba(s, first(s)), tceA)).isEqualTo(H_SUCCESS);
        assertThat(put(Mode.VIRTUAL, liobn, ioba(s, end(s) - 1), tceB)).isEqualTo(H_SUCCESS);
        assertThat(s.table().get(first(s))).isEqualTo(tceA);
        assertThat(s.table().get(end(s) - 1)).isEqualTo(tceB);
        assertThat(put(Mode.VIRTUAL, liobn, ioba(s, end(s)), tceA)).isEqualTo(H_PARAMETER);
        assertThat(put(Mode.VIRTUAL, liobn, ioba(s, first(s) - 1), tceA)).isEqualTo(H_PARAMETER);
        assertThat(put(Mode.VIRTUAL, liobn, 0, tceA)).isEqualTo(H_PARAMETER);
        HcallRegs r = HcallRegs.of(H_GET_TCE, liobn, ioba(s, end(s) - 1));
        assertThat(h.hcall(Mode.VIRTUAL, r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isEqualTo(tceB);
        assertThat(h.hcall(Mode.VIRTUAL, HcallRegs.of(H_GET_TCE, liobn, ioba(s, end(s))))).isEqualTo(H_PARAMETER);
        assertThat(h.hcall(Mode.VIRTUAL, HcallRegs.of(H_GET_TCE, liobn, ioba(s, first(s) - 1)))).isEqualTo(H_PARAMETER);
        // Stuff up to the last entry exactly, and one more: a 2019 kernel checks the first entry only and runs one past the
        // window's end, into the slack of its last table page (KVM's own: nothing reported) or, for a window that fills its
        // pages, past stt->pages[] (host memory); a current one refuses the call.
        assertThat(stuff(Mode.VIRTUAL, liobn, ioba(s, first(s)), 0, s.table().size())).isEqualTo(H_SUCCESS);
        assertThat(s.table().get(end(s) - 1)).isZero();
        assertThat(hostMemory).isEmpty();
        assertThat(stuff(Mode.VIRTUAL, liobn, ioba(s, first(s)), 0, s.table().size() + 1)).isEqualTo(H_SUCCESS);
        boolean fillsItsPages = s.table().size() % TceTable.CHUNK_ENTRIES == 0;
        if (fillsItsPages) assertThat(hostMemory).singleElement().asString().startsWith(String.format("H_STUFF_TCE writes TCE table entry 0x%x through stt->pages[", end(s)));
        else assertThat(hostMemory).as("the slack of the last page").isEmpty();
        int reported = hostMemory.size();
        h = current();
        assertThat(stuff(Mode.VIRTUAL, liobn, ioba(s, first(s)), 0, s.table().size() + 1)).isEqualTo(H_PARAMETER);
        assertThat(hostMemory).hasSize(reported);
    }

    /** The whole-range rule of current kernels (0b271f7d7f5e). */
    @Test
    void iobaValidateRulesOnCurrentKernels() {
        TceTable t = t4k.table();
        long off = t.offset(), size = t.size();
        assertThat(KvmTceHandlers.iobaValidate(t, off << 12, size, true)).isEqualTo(H_SUCCESS);
        assertThat(KvmTceHandlers.iobaValidate(t, off << 12, size + 1, true)).isEqualTo(H_PARAMETER);
        assertThat(KvmTceHandlers.iobaValidate(t, (off + size) << 12, 0, true)).isEqualTo(H_SUCCESS);
        assertThat(KvmTceHandlers.iobaValidate(t, (off + size + 1) << 12, 0, true)).isEqualTo(H_PARAMETER);
        assertThat(KvmTceHandlers.iobaValidate(t, (off - 1) << 12, 1, true)).isEqualTo(H_PARAMETER);
        // idx - offset + npages wraps to a small value, idx + npages wraps below idx: H_PARAMETER.
        assertThat(KvmTceHandlers.iobaValidate(t, (off + 10) << 12, -5, true)).isEqualTo(H_PARAMETER);
        assertThat(KvmTceHandlers.iobaValidate(t, (off + 10) << 12, -10, true)).isEqualTo(H_PARAMETER);
        assertThat(KvmTceHandlers.iobaValidate(t, -4096L, 1, true)).isEqualTo(H_PARAMETER);
    }

    /** iommu_tce_check_ioba of 2019 and 2022 kernels: alignment and the first entry; npages is not looked at. */
    @Test
    void iobaValidateRulesOn2019And2022Kernels() {
        TceTable t = t4k.table();
        long off = t.offset(), size = t.size();
        assertThat(KvmTceHandlers.iobaValidate(t, off << 12, size, false)).isEqualTo(H_SUCCESS);
        assertThat(KvmTceHandlers.iobaValidate(t, off << 12, size + 1, false)).as("npages ignored").isEqualTo(H_SUCCESS);
        assertThat(KvmTceHandlers.iobaValidate(t, (off + size - 1) << 12, -1, false)).as("npages ignored").isEqualTo(H_SUCCESS);
        assertThat(KvmTceHandlers.iobaValidate(t, (off + size) << 12, 0, false)).as("(ioba + 1) > (offset + size)").isEqualTo(H_PARAMETER);
        assertThat(KvmTceHandlers.iobaValidate(t, (off - 1) << 12, 1, false)).isEqualTo(H_PARAMETER);
        assertThat(KvmTceHandlers.iobaValidate(t, (off << 12) + 8, 1, false)).isEqualTo(H_PARAMETER);
    }

    @Test
    void onCurrentKernelsAnIobaPlusNpagesOverflowIsParameterAndWritesNothing() {
        h = current();
        long idx = first(t4k) + 10;
        t4k.table().put(idx, 0x5003);
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, idx), 0, -5)).isEqualTo(H_PARAMETER);
            assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, idx), 0, -1)).isEqualTo(H_PARAMETER);
            assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, idx), 0, Long.MIN_VALUE)).isEqualTo(H_PARAMETER);
        });
        assertThat(t4k.table().get(idx)).isEqualTo(0x5003);
        assertThat(hostMemory).isEmpty();
    }

    /**
     * A 2019 kernel looks at the first entry only (iommu_tce_check_ioba ignores npages): a clear of 2^63 entries
     * clears the rest of the window, the slack of its last table page, and goes on into host memory, in real mode (a
     * clear needs no table page) and in virtual mode alike. The model stops at the window's end and reports the first
     * entry past the table's pages.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void on2019KernelsAHugeNpagesRunsPastTheWindowIntoHostMemory(Mode m) {
        long idx = first(t4k) + 10;
        t4k.table().put(idx, 0x5003);
        t4k.table().put(end(t4k) - 1, 0x6003);
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
                assertThat(stuff(m, L4K, ioba(t4k, idx), 0, Long.MIN_VALUE)).isEqualTo(H_SUCCESS));
        assertThat(t4k.table().get(idx)).isZero();
        assertThat(t4k.table().get(end(t4k) - 1)).isZero();
        assertThat(hostMemory).singleElement().asString()
                .isEqualTo(String.format("H_STUFF_TCE writes TCE table entry 0x%x through stt->pages[1], past the array / the window has 0x400 entries (0x100..0x4ff) in 1 table page",
                        first(t4k) + TceTable.CHUNK_ENTRIES));
    }

    /** Real mode on a 2019 kernel reads stt->pages[] for every page a write would touch: past the array for a call running past the last page. */
    @Test
    void on2019KernelsRealModeReadsThePagesArrayPastItsEnd() {
        long last = end(tBig) - 1;
        tBig.table().put(last, 0x5003);   // the last table page is allocated
        writeList(LIST, 0x1003, 0x2003);
        assertThat(indirect(Mode.REAL, LBIG, ioba(tBig, last), LIST, 2)).isEqualTo(H_TOO_HARD);
        assertThat(hostMemory).singleElement().asString().isEqualTo("H_PUT_TCE_INDIRECT (real mode) reads stt->pages[3], past the array / the window's table has 3 pages");
        hostMemory.clear();
        // Virtual mode then writes the first entry and the one past the window, which lies past stt->pages[].
        assertThat(indirect(Mode.VIRTUAL, LBIG, ioba(tBig, last), LIST, 2)).isEqualTo(H_SUCCESS);
        assertThat(tBig.table().get(last)).isEqualTo(0x1003);
        assertThat(hostMemory).singleElement().asString().startsWith(String.format("H_PUT_TCE_INDIRECT writes TCE table entry 0x%x through stt->pages[3], past the array", end(tBig)));
    }

    // ---- npages ----------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Mode.class)
    void npagesZeroSucceedsWritingNothing(Mode m) {
        writeList(LIST, 0x1003);
        // One past the end fails on a 2019 kernel ((ioba + 1) > (offset + size)) and passes on a current one.
        assertThat(stuff(m, L4K, ioba(t4k, end(t4k)), 0, 0)).isEqualTo(H_PARAMETER);
        if (m == Mode.VIRTUAL) assertThat(current().hcall(m, HcallRegs.of(H_STUFF_TCE, L4K, ioba(t4k, end(t4k)), 0, 0))).isEqualTo(H_SUCCESS);
        assertThat(stuff(m, L4K, ioba(t4k, first(t4k)), 0, 0)).isEqualTo(H_SUCCESS);
        // Real mode still looks at the table page of an idx that is not the first of its page, npages 0 or
        // not (kvmppc_rm_ioba_validate: ALIGN_UP(idx % TCES_PER_PAGE + npages, ...)): unallocated, H_TOO_HARD.
        assertThat(indirect(m, L4K, ioba(t4k, end(t4k) - 1), LIST, 0)).isEqualTo(m == Mode.REAL ? H_TOO_HARD : H_SUCCESS);
        assertThat(indirect(m, L4K, ioba(t4k, first(t4k)), LIST, 0)).isEqualTo(H_SUCCESS);
        assertThat(t4k.table().allocatedChunks()).isZero();
        assertThat(t4k.table().get(first(t4k))).isZero();
        // Two past the end fails even with npages 0.
        assertThat(stuff(m, L4K, ioba(t4k, end(t4k) + 1), 0, 0)).isEqualTo(H_PARAMETER);
        // The list page is still translated with npages 0: the first address past RAM is H_TOO_HARD.
        assertThat(indirect(m, L4K, ioba(t4k, first(t4k)), RAM, 0)).isEqualTo(H_TOO_HARD);
    }

    @Test
    void indirect512Succeeds513IsParameter() {
        long[] list = new long[513];
        for (int i = 0; i < 513; i++) list[i] = ((long) (i + 1) << 12) | 3;
        writeList(LIST, list);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), LIST, 513)).isEqualTo(H_PARAMETER);
        assertThat(t4k.table().get(first(t4k))).isZero();
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), LIST, 512)).isEqualTo(H_SUCCESS);
        assertThat(t4k.table().get(first(t4k))).isEqualTo(0x1003);
        assertThat(t4k.table().get(first(t4k) + 511)).isEqualTo((512L << 12) | 3);
        assertThat(t4k.table().get(first(t4k) + 512)).isZero();
        // 513 is checked before the ioba and the list alignment order does not matter: H_PARAMETER.
        assertThat(indirect(Mode.VIRTUAL, L4K, 1, LIST + 8, 513)).isEqualTo(H_PARAMETER);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), LIST, -1)).isEqualTo(H_PARAMETER);
    }

    @Test
    void stuffHasNo512Limit() {
        t4k.table().put(first(t4k) + 600, 0x7003);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), 0, 513)).isEqualTo(H_SUCCESS);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), 0, 1000)).isEqualTo(H_SUCCESS);
        assertThat(t4k.table().get(first(t4k) + 600)).isZero();
    }

    // ---- TCE validation --------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Mode.class)
    void tceWithoutPermissionBitsIsAlwaysAccepted(Mode m) {
        long i = first(t64k);
        t64k.table().put(i, 0x10003);   // back the chunk so real mode can write non-zero values
        for (long tce : new long[] {0xdead_beef_0000L, 0xffff_ffff_ffff_fffcL, 0x1000, 0x4, 0}) {
            assertThat(put(m, L64K, ioba(t64k, i), tce)).as("tce 0x%x", tce).isEqualTo(H_SUCCESS);
            assertThat(t64k.table().get(i)).isEqualTo(tce);
        }
    }

    @Test
    void validTceOutsideGuestRamIsTooHardAndNotStored() {
        long i = first(t4k);
        assertThat(put(Mode.VIRTUAL, L4K, ioba(t4k, i), (RAM - 4096) | 1)).isEqualTo(H_SUCCESS);
        assertThat(put(Mode.VIRTUAL, L4K, ioba(t4k, i + 1), RAM | 1)).isEqualTo(H_TOO_HARD);
        assertThat(put(Mode.VIRTUAL, L4K, ioba(t4k, i + 1), 0xdead_beef_0000L | 2)).isEqualTo(H_TOO_HARD);
        assertThat(put(Mode.REAL, L4K, ioba(t4k, i + 1), RAM | 3)).isEqualTo(H_TOO_HARD);
        assertThat(t4k.table().get(i)).isEqualTo((RAM - 4096) | 1);
        assertThat(t4k.table().get(i + 1)).isZero();
    }

    @Test
    void tceAddressMisalignedForTheTablePageIsTooHardInVirtualModeParameterInRealMode() {
        long i = first(t64k);
        t64k.table().put(i + 1, 0x30001);   // back the chunk for real mode
        assertThat(put(Mode.VIRTUAL, L64K, ioba(t64k, i), 0x11000 | 3)).isEqualTo(H_TOO_HARD);
        assertThat(put(Mode.REAL, L64K, ioba(t64k, i), 0x11000 | 3)).isEqualTo(H_PARAMETER);
        assertThat(put(Mode.VIRTUAL, L64K, ioba(t64k, i), 0x20000 | 3)).isEqualTo(H_SUCCESS);
        assertThat(put(Mode.VIRTUAL, L16M, ioba(t16m, first(t16m)), 0x10000 | 1)).isEqualTo(H_TOO_HARD);
        assertThat(put(Mode.VIRTUAL, L16M, ioba(t16m, first(t16m)), 0x1000000 | 1)).isEqualTo(H_SUCCESS);
        assertThat(t64k.table().get(i)).isEqualTo(0x20003);
    }

    // ---- H_STUFF_TCE -----------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Mode.class)
    void stuffWithPermissionBitsIsParameter(Mode m) {
        long i = first(t4k);
        // Real mode checks the table pages first (a non-zero value is not "clearing"): H_TOO_HARD.
        assertThat(stuff(Mode.REAL, L4K, ioba(t4k, i), 0x1001, 4)).isEqualTo(H_TOO_HARD);
        t4k.table().put(i + 500, 0x1000);   // back the chunk
        assertThat(stuff(m, L4K, ioba(t4k, i), 0x1001, 4)).isEqualTo(H_PARAMETER);
        assertThat(stuff(m, L4K, ioba(t4k, i), 0x2, 4)).isEqualTo(H_PARAMETER);
        assertThat(entries(t4k, i, 4)).containsOnly(0);
        // The ioba is checked first.
        assertThat(stuff(m, L4K, 8, 0x1001, 4)).isEqualTo(H_PARAMETER);
    }

    @Test
    void stuffWritesANonPermissionValueIntoEveryEntry() {
        long i = first(t4k) + 3;
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, i), 0x1000, 5)).isEqualTo(H_SUCCESS);
        assertThat(entries(t4k, i - 1, 7)).containsExactly(0, 0x1000, 0x1000, 0x1000, 0x1000, 0x1000, 0);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void stuffZeroToUserspacePolicyReturnsTooHardAndWritesNothing(Mode m) {
        h = new KvmTceHandlers(tables::get, mem, new KvmPolicy(true));
        long i = first(t4k);
        t4k.table().put(i, 0x1003);
        t4k.table().put(i + 1, 0x2003);
        Recorder rec = new Recorder();
        t4k.attach(rec);
        assertThat(stuff(m, L4K, ioba(t4k, i), 0, 2)).isEqualTo(H_TOO_HARD);
        assertThat(entries(t4k, i, 2)).containsExactly(0x1003, 0x2003);
        assertThat(rec.log).isEmpty();
        assertThat(stuff(m, L4K, ioba(t4k, i), 0x1, 2)).isEqualTo(H_PARAMETER);
        assertThat(stuff(m, L4K, ioba(t4k, i), 0x1000, 1)).isEqualTo(H_SUCCESS);
        assertThat(t4k.table().get(i)).isEqualTo(0x1000);
        // H_PUT_TCE(0) is unaffected.
        assertThat(put(m, L4K, ioba(t4k, i + 1), 0)).isEqualTo(H_SUCCESS);
        assertThat(t4k.table().get(i + 1)).isZero();
    }

    // ---- H_PUT_TCE_INDIRECT ----------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Mode.class)
    void indirectListChecks(Mode m) {
        long i = first(t4k);
        assertThat(indirect(m, L4K, ioba(t4k, i), LIST + 8, 1)).isEqualTo(H_PARAMETER);
        assertThat(indirect(m, L4K, ioba(t4k, i), LIST + 0x800, 1)).isEqualTo(H_PARAMETER);
        assertThat(indirect(m, L4K, ioba(t4k, i), RAM, 1)).isEqualTo(H_TOO_HARD);
        assertThat(indirect(m, L4K, ioba(t4k, i), 1L << 40, 1)).isEqualTo(H_TOO_HARD);
        // Bad ioba beats a list outside RAM.
        assertThat(indirect(m, L4K, ioba(t4k, end(t4k)), RAM, 1)).isEqualTo(H_PARAMETER);
        assertThat(t4k.table().allocatedChunks()).isZero();
    }

    @Test
    void indirectListInTheLastRamPage() {
        writeList(RAM - 4096, 0x1003, 0x2001);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), RAM - 4096, 512)).isEqualTo(H_SUCCESS);
        assertThat(entries(t4k, first(t4k), 3)).containsExactly(0x1003, 0x2001, 0);
    }

    @Test
    void indirectValidatesEveryTceBeforeWritingAny() {
        long i = first(t4k);
        t4k.table().put(i + 1, 0x9003);
        writeList(LIST, 0x1003, 0x2003, RAM | 3, 0x4003);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, i), LIST, 4)).isEqualTo(H_TOO_HARD);
        assertThat(entries(t4k, i, 4)).containsExactly(0, 0x9003, 0, 0);
        // Misaligned for a 64 KiB table in the middle: also nothing written.
        writeList(LIST, 0x10003, 0x21003, 0x30003);
        assertThat(indirect(Mode.VIRTUAL, L64K, ioba(t64k, first(t64k)), LIST, 3)).isEqualTo(H_TOO_HARD);
        assertThat(entries(t64k, first(t64k), 3)).containsExactly(0, 0, 0);
    }

    @Test
    void indirectWriteLoopStopsAtAnUntranslatableInvalidTce() {
        // A TCE without permission bits passes validation, but the write loop translates every TCE
        // (kvmppc_tce_to_ua) and stops with H_PARAMETER, earlier entries written.
        long i = first(t4k);
        writeList(LIST, 0x1003, 0x2001, 0xdead_0000_0000L, 0x4003);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, i), LIST, 4)).isEqualTo(H_PARAMETER);
        assertThat(entries(t4k, i, 4)).containsExactly(0x1003, 0x2001, 0, 0);
    }

    @Test
    void indirectDecodesTheListBigEndian() {
        byte[] raw = {
            0, 0, 0, 0, 0, 0x12, 0x30, 0x03,                         // 0x123003
            0, 0, 0, 0, 0x01, 0, 0x10, 0x02,                         // 0x1001002
            (byte) 0x80, 0, 0, 0, 0, 0, 0, 0x04};                    // invalid, no perm bits: 0x8000000000000004
        mem.write(LIST, raw, 0, raw.length);
        long i = first(t4k);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, i), LIST, 2)).isEqualTo(H_SUCCESS);
        assertThat(entries(t4k, i, 3)).containsExactly(0x123003, 0x1001002, 0);
    }

    // ---- H_GET_TCE -------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Mode.class)
    void getTceReadsZeroForNeverWrittenEntries(Mode m) {
        HcallRegs r = HcallRegs.of(H_GET_TCE, LBIG, ioba(tBig, first(tBig) + 2 * TceTable.CHUNK_ENTRIES));
        assertThat(h.hcall(m, r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isZero();
        assertThat(tBig.table().allocatedChunks()).isZero();
        tBig.table().put(first(tBig) + 1, 0x5001);
        r = HcallRegs.of(H_GET_TCE, LBIG, ioba(tBig, first(tBig) + 1));
        assertThat(h.hcall(m, r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isEqualTo(0x5001);
        r = HcallRegs.of(H_GET_TCE, LBIG, ioba(tBig, first(tBig) + 2));
        assertThat(h.hcall(m, r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isZero();
    }

    // ---- real mode -------------------------------------------------------------------------

    @Test
    void realModeCannotAllocateTablePages() {
        long i = first(tBig) + 7;
        assertThat(put(Mode.REAL, LBIG, ioba(tBig, i), 0x1003)).isEqualTo(H_TOO_HARD);
        assertThat(put(Mode.REAL, LBIG, ioba(tBig, i), 0x4)).isEqualTo(H_TOO_HARD);   // non-zero: would allocate
        assertThat(tBig.table().allocatedChunks()).isZero();
        assertThat(put(Mode.REAL, LBIG, ioba(tBig, i), 0)).isEqualTo(H_SUCCESS);
        assertThat(stuff(Mode.REAL, LBIG, ioba(tBig, i), 0, 100)).isEqualTo(H_SUCCESS);
        assertThat(tBig.table().allocatedChunks()).isZero();
        // Virtual mode allocates; then real mode may write into that chunk.
        assertThat(put(Mode.VIRTUAL, LBIG, ioba(tBig, i), 0x1003)).isEqualTo(H_SUCCESS);
        assertThat(put(Mode.REAL, LBIG, ioba(tBig, i + 1), 0x2003)).isEqualTo(H_SUCCESS);
        assertThat(tBig.table().get(i + 1)).isEqualTo(0x2003);
        // A non-zero stuff into the backed chunk works, spanning into the next (unbacked) one does not.
        long lastOfChunk0 = first(tBig) + TceTable.CHUNK_ENTRIES - 1;
        assertThat(stuff(Mode.REAL, LBIG, ioba(tBig, lastOfChunk0), 0x1000, 1)).isEqualTo(H_SUCCESS);
        assertThat(stuff(Mode.REAL, LBIG, ioba(tBig, lastOfChunk0), 0x1000, 2)).isEqualTo(H_TOO_HARD);
        assertThat(tBig.table().get(lastOfChunk0 + 1)).isZero();
        // Indirect never counts as clearing.
        writeList(LIST, 0, 0);
        assertThat(indirect(Mode.REAL, LBIG, ioba(tBig, lastOfChunk0), LIST, 2)).isEqualTo(H_TOO_HARD);
        assertThat(indirect(Mode.REAL, LBIG, ioba(tBig, lastOfChunk0 - 1), LIST, 2)).isEqualTo(H_SUCCESS);
        assertThat(indirect(Mode.VIRTUAL, LBIG, ioba(tBig, lastOfChunk0), LIST, 2)).isEqualTo(H_SUCCESS);
    }

    @Test
    void realModeWithAnAttachmentNeedingVirtualModeIsTooHard() {
        Recorder rec = new Recorder();
        rec.realModeCapable = false;
        t4k.attach(rec);
        long i = first(t4k);
        writeList(LIST, 0x1003);
        assertThat(put(Mode.REAL, L4K, ioba(t4k, i), 0)).isEqualTo(H_TOO_HARD);
        assertThat(put(Mode.REAL, L4K, ioba(t4k, i), 0x1003)).isEqualTo(H_TOO_HARD);
        assertThat(stuff(Mode.REAL, L4K, ioba(t4k, i), 0, 1)).isEqualTo(H_TOO_HARD);
        assertThat(indirect(Mode.REAL, L4K, ioba(t4k, i), LIST, 1)).isEqualTo(H_TOO_HARD);
        assertThat(rec.log).isEmpty();
        assertThat(put(Mode.VIRTUAL, L4K, ioba(t4k, i), 0x1003)).isEqualTo(H_SUCCESS);
        assertThat(rec.log).containsExactly("x " + i + " 0x1000 3", "k " + i + " 1");
        t4k.detach(rec);
        assertThat(put(Mode.REAL, L4K, ioba(t4k, i), 0)).isEqualTo(H_SUCCESS);
    }

    // ---- attached tables -------------------------------------------------------------------

    /** Records exchange/kill calls; fails the {@code failOnCall}-th exchange (1-based) with {@code failRc}. */
    static final class Recorder implements AttachedTable {
        boolean realModeCapable = true;
        int failOnCall = -1;
        long failRc = H_HARDWARE;
        int calls;
        final List<String> log = new ArrayList<>();

        /** A recorder whose {@code call}-th exchange (1-based) returns {@code rc}. */
        static Recorder failing(int call, long rc) {
            Recorder r = new Recorder();
            r.failOnCall = call;
            r.failRc = rc;
            return r;
        }

        long refuseGpa = -1;

        @Override public boolean realModeCapable() { return realModeCapable; }

        @Override public long validate(long gpa) { return gpa == refuseGpa ? H_TOO_HARD : H_SUCCESS; }

        @Override public long exchange(long idx, long gpa, int perm) {
            log.add(String.format("x %d 0x%x %d", idx, gpa, perm));
            return ++calls == failOnCall ? failRc : H_SUCCESS;
        }

        @Override public void kill(long idx, long npages) { log.add("k " + idx + " " + npages); }

        long kills() { return log.stream().filter(s -> s.startsWith("k")).count(); }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void putExchangesOnEveryAttachmentAndKillsOnce(Mode m) {
        Recorder a = new Recorder(), b = new Recorder();
        t4k.attach(a);
        t4k.attach(b);
        long i = first(t4k) + 5;
        t4k.table().put(i + 100, 1 << 12);   // back the chunk for real mode
        assertThat(put(m, L4K, ioba(t4k, i), 0x7002)).isEqualTo(H_SUCCESS);
        assertThat(a.log).containsExactly("x " + i + " 0x7000 2", "k " + i + " 1");
        assertThat(b.log).containsExactly("x " + i + " 0x7000 2", "k " + i + " 1");
        a.log.clear();
        assertThat(put(m, L4K, ioba(t4k, i), 0)).isEqualTo(H_SUCCESS);
        assertThat(a.log).containsExactly("x " + i + " 0x0 0", "k " + i + " 1");
    }

    @Test
    void indirectExchangesPerEntryAndKillsOnceWithTheRange() {
        Recorder a = new Recorder();
        t4k.attach(a);
        long i = first(t4k) + 10;
        writeList(LIST, 0x1003, 0x2001, 0, 0x4002);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, i), LIST, 4)).isEqualTo(H_SUCCESS);
        assertThat(a.log).containsExactly(
                "x " + i + " 0x1000 3", "x " + (i + 1) + " 0x2000 1", "x " + (i + 2) + " 0x0 0",
                "x " + (i + 3) + " 0x4000 2", "k " + i + " 4");
    }

    @Test
    void indirectOn2022KillsEachEntryAfterItsExchange() {
        h = handlers(K2022);
        Recorder a = new Recorder();
        t4k.attach(a);
        long i = first(t4k) + 10;
        writeList(LIST, 0x1003, 0x2001, 0, 0x4002);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, i), LIST, 4)).isEqualTo(H_SUCCESS);
        assertThat(a.log).containsExactly(
                "x " + i + " 0x1000 3", "k " + i + " 1", "x " + (i + 1) + " 0x2000 1", "k " + (i + 1) + " 1",
                "x " + (i + 2) + " 0x0 0", "k " + (i + 2) + " 1", "x " + (i + 3) + " 0x4000 2", "k " + (i + 3) + " 1");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void stuffOn2019KillsTheRangeAfterTheClearedOne(Mode m) {
        // kvmppc_(rm_)h_stuff_tce: the put loop advances ioba by npages pages before invalidate_exit.
        Recorder a = new Recorder();
        t4k.attach(a);
        long i = first(t4k) + 10;
        t4k.table().put(i, 0x1003);
        assertThat(stuff(m, L4K, ioba(t4k, i), 0, 3)).isEqualTo(H_SUCCESS);
        assertThat(a.log).containsExactly("x " + i + " 0x0 0", "x " + (i + 1) + " 0x0 0", "x " + (i + 2) + " 0x0 0", "k " + (i + 3) + " 3");
        assertThat(entries(t4k, i, 3)).containsOnly(0);
    }

    @Test
    void stuffOn2022KillsEachClearedEntry() {
        h = handlers(K2022);
        Recorder a = new Recorder();
        t4k.attach(a);
        long i = first(t4k) + 10;
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, i), 0, 3)).isEqualTo(H_SUCCESS);
        assertThat(a.log).containsExactly("x " + i + " 0x0 0", "k " + i + " 1", "x " + (i + 1) + " 0x0 0", "k " + (i + 1) + " 1",
                "x " + (i + 2) + " 0x0 0", "k " + (i + 2) + " 1");
    }

    @Test
    void failedValidationTouchesNoAttachment() {
        Recorder a = new Recorder();
        t4k.attach(a);
        writeList(LIST, 0x1003, RAM | 3);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), LIST, 2)).isEqualTo(H_TOO_HARD);
        assertThat(put(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), RAM | 3)).isEqualTo(H_TOO_HARD);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, first(t4k)), 3, 2)).isEqualTo(H_PARAMETER);
        assertThat(a.log).isEmpty();
    }

    @Test
    void putExchangeErrorAbortsClearsTheHardwareEntryAndLeavesTheGuestTable() {
        Recorder a = Recorder.failing(1, H_HARDWARE);
        t4k.attach(a);
        long i = first(t4k);
        t4k.table().put(i, 0x9003);
        assertThat(put(Mode.VIRTUAL, L4K, ioba(t4k, i), 0x1003)).isEqualTo(H_HARDWARE);
        assertThat(t4k.table().get(i)).isEqualTo(0x9003);
        assertThat(a.log).containsExactly("x " + i + " 0x1000 3", "k " + i + " 1", "x " + i + " 0x0 0");
    }

    @Test
    void indirectExchangeErrorAbortsAfterEarlierEntriesAndKillsOnce() {
        // 2019: kvmppc_clear_tce(..., entry) clears the call's first hardware entry, not the failing one.
        Recorder a = Recorder.failing(3, H_HARDWARE);
        t4k.attach(a);
        long i = first(t4k);
        writeList(LIST, 0x1003, 0x2003, 0x3003, 0x4003);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, i), LIST, 4)).isEqualTo(H_HARDWARE);
        assertThat(entries(t4k, i, 4)).containsExactly(0x1003, 0x2003, 0, 0);
        assertThat(a.log).containsExactly("x " + i + " 0x1000 3", "x " + (i + 1) + " 0x2000 3",
                "x " + (i + 2) + " 0x3000 3", "x " + i + " 0x0 0", "k " + i + " 4");
    }

    @Test
    void indirectExchangeErrorOn2022ClearsTheFailingEntryWithoutABatchedKill() {
        h = handlers(K2022);
        Recorder a = Recorder.failing(3, H_HARDWARE);
        t4k.attach(a);
        long i = first(t4k);
        writeList(LIST, 0x1003, 0x2003, 0x3003, 0x4003);
        assertThat(indirect(Mode.VIRTUAL, L4K, ioba(t4k, i), LIST, 4)).isEqualTo(H_HARDWARE);
        assertThat(entries(t4k, i, 4)).containsExactly(0x1003, 0x2003, 0, 0);
        assertThat(a.log).containsExactly("x " + i + " 0x1000 3", "k " + i + " 1", "x " + (i + 1) + " 0x2000 3", "k " + (i + 1) + " 1",
                "x " + (i + 2) + " 0x3000 3", "k " + (i + 2) + " 1", "x " + (i + 2) + " 0x0 0");
    }

    @Test
    void stuffExchangeErrorAbortsWritesNothingAndKillsOnce() {
        Recorder a = Recorder.failing(2, H_TOO_HARD);
        t4k.attach(a);
        long i = first(t4k);
        t4k.table().put(i, 0x9003);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, i), 0, 3)).isEqualTo(H_TOO_HARD);
        assertThat(t4k.table().get(i)).isEqualTo(0x9003);
        // The H_TOO_HARD exit reaches invalidate_exit before ioba moves: the right range, once.
        assertThat(a.log).containsExactly("x " + i + " 0x0 0", "x " + (i + 1) + " 0x0 0", "k " + i + " 3");
        assertThat(a.kills()).isOne();
    }

    @Test
    void stuffTooHardOn2022ReturnsAfterTheEntriesKilledSoFar() {
        h = handlers(K2022);
        Recorder a = Recorder.failing(2, H_TOO_HARD);
        t4k.attach(a);
        long i = first(t4k);
        t4k.table().put(i, 0x9003);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, i), 0, 3)).isEqualTo(H_TOO_HARD);
        assertThat(t4k.table().get(i)).isEqualTo(0x9003);
        assertThat(a.log).containsExactly("x " + i + " 0x0 0", "k " + i + " 1", "x " + (i + 1) + " 0x0 0", "k " + (i + 1) + " 1");
    }

    @Test
    void stuffOtherExchangeErrorWarnsClearsAndCarriesOn() {
        // Any error but H_TOO_HARD: WARN_ON_ONCE, kvmppc_clear_tce, next entry; the guest table is still written
        // and the last exchange's return code returned.
        Recorder a = Recorder.failing(2, H_HARDWARE);
        t4k.attach(a);
        long i = first(t4k);
        t4k.table().put(i + 1, 0x9003);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, i), 0, 3)).isEqualTo(H_SUCCESS);
        assertThat(entries(t4k, i, 3)).containsOnly(0);
        assertThat(a.log).containsExactly("x " + i + " 0x0 0", "x " + (i + 1) + " 0x0 0", "x " + i + " 0x0 0",
                "x " + (i + 2) + " 0x0 0", "k " + (i + 3) + " 3");

        Recorder b = Recorder.failing(3, H_HARDWARE);
        t4k.detach(a);
        t4k.attach(b);
        t4k.table().put(i + 2, 0x9003);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, i), 0, 3)).isEqualTo(H_HARDWARE);
        assertThat(entries(t4k, i, 3)).containsOnly(0);
    }

    @Test
    void stuffOtherExchangeErrorOn2022ClearsTheFailingEntry() {
        h = handlers(K2022);
        Recorder a = Recorder.failing(2, H_HARDWARE);
        t4k.attach(a);
        long i = first(t4k);
        assertThat(stuff(Mode.VIRTUAL, L4K, ioba(t4k, i), 0, 3)).isEqualTo(H_SUCCESS);
        assertThat(a.log).containsExactly("x " + i + " 0x0 0", "k " + i + " 1", "x " + (i + 1) + " 0x0 0", "k " + (i + 1) + " 1",
                "x " + (i + 1) + " 0x0 0", "x " + (i + 2) + " 0x0 0", "k " + (i + 2) + " 1");
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void indirectWithATceAnAttachmentRefusesFailsBeforeWritingAnything(Mode m) {
        // kvmppc_(rm_)tce_validate walks stt->iommu_tables: mm_iommu_lookup(ua, 1 << it_page_shift) fails.
        Recorder a = new Recorder();
        a.refuseGpa = 0x3000;
        t4k.attach(a);
        long i = first(t4k);
        t4k.table().put(i + 100, 0x7003);   // back the chunk for real mode
        writeList(LIST, 0x1003, 0x2003, 0x3003, 0x4003);
        assertThat(indirect(m, L4K, ioba(t4k, i), LIST, 4)).isEqualTo(H_TOO_HARD);
        assertThat(entries(t4k, i, 4)).containsOnly(0);
        assertThat(a.log).isEmpty();
        assertThat(put(m, L4K, ioba(t4k, i), 0x3003)).isEqualTo(H_TOO_HARD);
        assertThat(put(m, L4K, ioba(t4k, i), 0x3000)).isEqualTo(H_SUCCESS);   // no permission: not validated
    }

    // ---- host eras and CPUs ----------------------------------------------------------------

    KvmTceHandlers handlers(HostCaps.HostKernel k) {
        return new KvmTceHandlers(tables::get, mem, KvmPolicy.STOCK, HostCaps.POWERNV8_HV.withKernel(k));
    }

    @Test
    void radixPuntComesBeforeTheLiobnLookupAndSparesHGetTce() {
        h = new KvmTceHandlers(tables::get, mem, KvmPolicy.STOCK, HostCaps.POWERNV_HV);
        long i = first(t4k);
        t4k.table().put(i, 0x1003);
        writeList(LIST, 0x2003);
        assertThat(put(Mode.REAL, L4K, ioba(t4k, i), 0)).isEqualTo(H_TOO_HARD);
        assertThat(stuff(Mode.REAL, L4K, ioba(t4k, i), 0, 1)).isEqualTo(H_TOO_HARD);
        assertThat(indirect(Mode.REAL, L4K, ioba(t4k, i), LIST, 1)).isEqualTo(H_TOO_HARD);
        // Before the LIOBN and the arguments: what would be H_PARAMETER is H_TOO_HARD too.
        assertThat(indirect(Mode.REAL, L4K, ioba(t4k, i), LIST, 513)).isEqualTo(H_TOO_HARD);
        assertThat(stuff(Mode.REAL, L4K, 8, 0, 1)).isEqualTo(H_TOO_HARD);
        assertThat(t4k.table().get(i)).isEqualTo(0x1003);
        HcallRegs r = HcallRegs.of(H_GET_TCE, L4K, ioba(t4k, i));
        assertThat(h.hcall(Mode.REAL, r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isEqualTo(0x1003);
        assertThat(h.hcall(Mode.REAL, HcallRegs.of(H_GET_TCE, L4K, 8))).isEqualTo(H_PARAMETER);
        // Virtual mode does the work.
        assertThat(put(Mode.VIRTUAL, L4K, ioba(t4k, i), 0)).isEqualTo(H_SUCCESS);
        assertThat(t4k.table().get(i)).isZero();
    }

    @Test
    void a2022KernelHasNoRealModeHandlerAtAll() {
        h = handlers(K2022);
        long i = first(t4k);
        t4k.table().put(i, 0x1003);
        assertThat(put(Mode.REAL, L4K, ioba(t4k, i), 0)).isEqualTo(H_TOO_HARD);
        HcallRegs r = HcallRegs.of(H_GET_TCE, L4K, ioba(t4k, i));
        assertThat(h.hcall(Mode.REAL, r)).isEqualTo(H_TOO_HARD);
        assertThat(h.hcall(Mode.VIRTUAL, r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isEqualTo(0x1003);
    }
}
