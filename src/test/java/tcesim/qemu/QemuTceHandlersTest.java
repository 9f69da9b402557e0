package tcesim.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.papr.Hcall.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.papr.TceTable;
import tcesim.qemu.IommuTlbEvent.Type;

/** Exact rules of QEMU's TCE handlers (hw/ppc/spapr_iommu.c). */
class QemuTceHandlersTest {
    static final long RAM = 64L << 20;
    static final long L4K = 0x80000000L, L64K = 0x80000001L, L16M = 0x80000002L, UNKNOWN = 0x80000005L;
    static final long LIST = 0x20000;

    final GuestMemory mem = new GuestMemory(RAM);
    final Map<Long, SpaprTceTable> tables = new HashMap<>();
    final SpaprTceTable t4k = add(L4K, 12, 0x100, 1024);
    final SpaprTceTable t64k = add(L64K, 16, (1L << 59) >>> 16, 600);
    final SpaprTceTable t16m = add(L16M, 24, 4, 8);
    final QemuTceHandlers h = new QemuTceHandlers(tables::get, mem);

    SpaprTceTable add(long liobn, int shift, long offset, long size) {
        SpaprTceTable s = new SpaprTceTable(new TceTable(liobn, shift, offset, size), false);
        tables.put(liobn, s);
        return s;
    }

    static long ioba(SpaprTceTable s, long rel) { return s.busOffset() + (rel << s.pageShift()); }
    static long get(SpaprTceTable s, long rel) { return s.table().get(s.table().offset() + rel); }
    static long[] entries(SpaprTceTable s, long rel, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = get(s, rel + i);
        return out;
    }

    long put(long liobn, long ioba, long tce) { return h.hcall(HcallRegs.of(H_PUT_TCE, liobn, ioba, tce)); }
    long stuff(long liobn, long ioba, long v, long n) { return h.hcall(HcallRegs.of(H_STUFF_TCE, liobn, ioba, v, n)); }
    long indirect(long liobn, long ioba, long list, long n) { return h.hcall(HcallRegs.of(H_PUT_TCE_INDIRECT, liobn, ioba, list, n)); }

    void writeList(long list, long... tces) {
        for (int i = 0; i < tces.length; i++) mem.writeLongBE(list + 8L * i, tces[i]);
    }

    static final class Listener implements IommuNotifier {
        final boolean map;
        final List<IommuTlbEvent> events = new ArrayList<>();
        Listener(boolean map) { this.map = map; }
        @Override public boolean wantsMap() { return map; }
        @Override public void notify(IommuTlbEvent e) { events.add(e); }
    }

    @Test
    void unknownLiobnIsParameterAndOtherOpcodesAreFunction() {
        assertThat(put(UNKNOWN, 0, 0x1003)).isEqualTo(H_PARAMETER);
        assertThat(stuff(UNKNOWN, 0, 0, 1)).isEqualTo(H_PARAMETER);
        assertThat(indirect(UNKNOWN, 0, LIST, 1)).isEqualTo(H_PARAMETER);
        HcallRegs r = HcallRegs.of(H_GET_TCE, UNKNOWN, 0);
        assertThat(h.hcall(r)).isEqualTo(H_PARAMETER);
        assertThat(r.r4).isEqualTo(UNKNOWN);
        assertThat(h.hcall(HcallRegs.of(0x1D, L4K, 0))).isEqualTo(H_FUNCTION);
    }

    @Test
    void misalignedIobaIsMaskedToThePage() {
        assertThat(put(L64K, ioba(t64k, 3) + 0x1234, 0x50003)).isEqualTo(H_SUCCESS);
        assertThat(get(t64k, 3)).isEqualTo(0x50003);
        assertThat(stuff(L64K, ioba(t64k, 3) + 0xffff, 0, 1)).isEqualTo(H_SUCCESS);
        assertThat(get(t64k, 3)).isZero();
        writeList(LIST, 0x60003);
        assertThat(indirect(L64K, ioba(t64k, 4) + 8, LIST, 1)).isEqualTo(H_SUCCESS);
        assertThat(get(t64k, 4)).isEqualTo(0x60003);
        HcallRegs r = HcallRegs.of(H_GET_TCE, L64K, ioba(t64k, 4) + 0x7777);
        assertThat(h.hcall(r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isEqualTo(0x60003);
    }

    @ParameterizedTest
    @ValueSource(longs = {L4K, L64K, L16M})
    void windowEdgesAtEachPageShiftWithNonZeroOffset(long liobn) {
        SpaprTceTable s = tables.get(liobn);
        long n = s.nbTable();
        assertThat(put(liobn, ioba(s, 0), 0x1003)).isEqualTo(H_SUCCESS);
        assertThat(put(liobn, ioba(s, n - 1), 0x2003)).isEqualTo(H_SUCCESS);
        assertThat(get(s, 0)).isEqualTo(0x1003);
        assertThat(get(s, n - 1)).isEqualTo(0x2003);
        assertThat(put(liobn, ioba(s, n), 0x1003)).isEqualTo(H_PARAMETER);
        assertThat(put(liobn, s.busOffset() - (1L << s.pageShift()), 0x1003)).isEqualTo(H_PARAMETER);
        assertThat(put(liobn, 0, 0x1003)).isEqualTo(H_PARAMETER);
        assertThat(h.hcall(HcallRegs.of(H_GET_TCE, liobn, ioba(s, n)))).isEqualTo(H_PARAMETER);
        assertThat(h.hcall(HcallRegs.of(H_GET_TCE, liobn, s.busOffset() - 1))).isEqualTo(H_PARAMETER);
        assertThat(s.table().allocatedChunks()).isOne();
    }

    @Test
    void npagesZeroIsParameterAndWritesNothing() {
        writeList(LIST, 0x1003);
        assertThat(stuff(L4K, ioba(t4k, 0), 0x1003, 0)).isEqualTo(H_PARAMETER);
        assertThat(indirect(L4K, ioba(t4k, 0), LIST, 0)).isEqualTo(H_PARAMETER);
        assertThat(get(t4k, 0)).isZero();
    }

    @Test
    void stuffRejectsNpagesLargerThanTheTableBeforeWriting() {
        Listener vhost = new Listener(false);
        t16m.addNotifier(vhost);
        for (int i = 0; i < 8; i++) t16m.table().put(t16m.table().offset() + i, ((long) (i + 1) << 24) | 3);
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertThat(stuff(L16M, ioba(t16m, 0), 0, 9)).isEqualTo(H_PARAMETER);
            assertThat(stuff(L16M, ioba(t16m, 0), 0, -1)).isEqualTo(H_PARAMETER);
        });
        assertThat(get(t16m, 0)).isEqualTo((1L << 24) | 3);
        assertThat(vhost.events).isEmpty();
        assertThat(stuff(L16M, ioba(t16m, 0), 0, 8)).isEqualTo(H_SUCCESS);
        assertThat(entries(t16m, 0, 8)).containsOnly(0);
        assertThat(vhost.events).hasSize(8);
    }

    @Test
    void stuffStopsAtTheWindowEndLeavingEarlierWrites() {
        t4k.table().put(t4k.table().offset() + 1021, 0x9003);
        assertThat(stuff(L4K, ioba(t4k, 1022), 0x5003, 5)).isEqualTo(H_PARAMETER);
        assertThat(entries(t4k, 1021, 3)).containsExactly(0x9003, 0x5003, 0x5003);
        // Wrapping iobas: masked, then out of the window at once.
        assertThat(stuff(L4K, -1L, 0x5003, 3)).isEqualTo(H_PARAMETER);
    }

    @Test
    void stuffAndPutStoreAnyValue() {
        assertThat(stuff(L4K, ioba(t4k, 10), 0x7003, 3)).isEqualTo(H_SUCCESS);
        assertThat(entries(t4k, 9, 5)).containsExactly(0, 0x7003, 0x7003, 0x7003, 0);
        assertThat(put(L4K, ioba(t4k, 20), RAM | 3)).isEqualTo(H_SUCCESS);          // outside RAM
        assertThat(put(L64K, ioba(t64k, 0), 0x11003)).isEqualTo(H_SUCCESS);         // misaligned for 64 KiB
        assertThat(put(L4K, ioba(t4k, 21), 0xffff_ffff_ffff_ffffL)).isEqualTo(H_SUCCESS);
        assertThat(get(t4k, 20)).isEqualTo(RAM | 3);
        assertThat(get(t64k, 0)).isEqualTo(0x11003);
        assertThat(get(t4k, 21)).isEqualTo(-1L);
    }

    @Test
    void indirect512And513AndListAlignment() {
        long[] list = new long[513];
        for (int i = 0; i < 513; i++) list[i] = ((long) (i + 1) << 12) | 1;
        writeList(LIST, list);
        assertThat(indirect(L4K, ioba(t4k, 0), LIST, 513)).isEqualTo(H_PARAMETER);
        assertThat(indirect(L4K, ioba(t4k, 0), LIST + 8, 1)).isEqualTo(H_PARAMETER);
        assertThat(indirect(L4K, ioba(t4k, 0), LIST + 0x800, 1)).isEqualTo(H_PARAMETER);
        assertThat(t4k.table().allocatedChunks()).isZero();
        assertThat(indirect(L4K, ioba(t4k, 0), LIST, 512)).isEqualTo(H_SUCCESS);
        assertThat(get(t4k, 511)).isEqualTo((512L << 12) | 1);
        assertThat(get(t4k, 512)).isZero();
    }

    @Test
    void indirectListOutsideRamReadsZerosAndClears() {
        Listener vhost = new Listener(false);
        t4k.addNotifier(vhost);
        t4k.table().put(t4k.table().offset() + 3, 0x3003);
        t4k.table().put(t4k.table().offset() + 4, 0x4003);
        assertThat(indirect(L4K, ioba(t4k, 3), RAM, 2)).isEqualTo(H_SUCCESS);
        assertThat(entries(t4k, 3, 2)).containsExactly(0, 0);
        assertThat(vhost.events).extracting(IommuTlbEvent::type).containsExactly(Type.UNMAP, Type.UNMAP);
    }

    @Test
    void indirectDoesNotValidateTces() {
        writeList(LIST, 0x1003, RAM | 3, 0x11003, 0xdead_0000_0000L);
        assertThat(indirect(L64K, ioba(t64k, 0), LIST, 4)).isEqualTo(H_SUCCESS);
        assertThat(entries(t64k, 0, 4)).containsExactly(0x1003, RAM | 3, 0x11003, 0xdead_0000_0000L);
    }

    @Test
    void indirectStopsAtTheFirstOutOfWindowEntryLeavingEarlierWrites() {
        writeList(LIST, 0x1003, 0x2003, 0x3003, 0x4003, 0x5003);
        assertThat(indirect(L4K, ioba(t4k, 1021), LIST, 5)).isEqualTo(H_PARAMETER);
        assertThat(entries(t4k, 1021, 3)).containsExactly(0x1003, 0x2003, 0x3003);
    }

    @Test
    void indirectDecodesTheListBigEndian() {
        byte[] raw = {0, 0, 0, 0, 0, 0x12, 0x30, 0x03, (byte) 0x80, 0, 0, 0, 0, 0, 0x10, 0x02};
        mem.write(LIST, raw, 0, raw.length);
        assertThat(indirect(L4K, ioba(t4k, 0), LIST, 2)).isEqualTo(H_SUCCESS);
        assertThat(entries(t4k, 0, 2)).containsExactly(0x123003L, 0x8000000000001002L);
    }

    @Test
    void notifiersGetUnmapForClearsAndMapForValidTces() {
        Listener vfio = new Listener(true), vhost = new Listener(false);
        t64k.addNotifier(vfio);
        t64k.addNotifier(vhost);
        assertThat(put(L64K, ioba(t64k, 5), 0x1234_5001L)).isEqualTo(H_SUCCESS);
        IommuTlbEvent map = new IommuTlbEvent(Type.MAP, 5L << 16, 0x1234_0000L, 0xffff, 1);
        assertThat(vfio.events).containsExactly(map);
        assertThat(vhost.events).isEmpty();
        assertThat(put(L64K, ioba(t64k, 5) + 0x10, 0)).isEqualTo(H_SUCCESS);
        IommuTlbEvent unmap = new IommuTlbEvent(Type.UNMAP, 5L << 16, 0, 0xffff, 0);
        assertThat(vfio.events).containsExactly(map, unmap);
        assertThat(vhost.events).containsExactly(unmap);
        // A non-zero value without permission bits is an UNMAP too.
        assertThat(put(L64K, ioba(t64k, 6), 0x30000)).isEqualTo(H_SUCCESS);
        assertThat(vhost.events).last().isEqualTo(new IommuTlbEvent(Type.UNMAP, 6L << 16, 0x30000, 0xffff, 0));
        vfio.events.clear();
        vhost.events.clear();
        assertThat(stuff(L64K, ioba(t64k, 7), 0, 3)).isEqualTo(H_SUCCESS);
        assertThat(vhost.events).extracting(IommuTlbEvent::iova).containsExactly(7L << 16, 8L << 16, 9L << 16);
        assertThat(vfio.events).hasSize(3);
        vfio.events.clear();
        writeList(LIST, 0x20002, 0, 0x40003);
        assertThat(indirect(L64K, ioba(t64k, 10), LIST, 3)).isEqualTo(H_SUCCESS);
        assertThat(vfio.events).containsExactly(
                new IommuTlbEvent(Type.MAP, 10L << 16, 0x20000, 0xffff, 2),
                new IommuTlbEvent(Type.UNMAP, 11L << 16, 0, 0xffff, 0),
                new IommuTlbEvent(Type.MAP, 12L << 16, 0x40000, 0xffff, 3));
    }

    @Test
    void failedCallsNotifyNobody() {
        Listener vfio = new Listener(true);
        t4k.addNotifier(vfio);
        put(L4K, ioba(t4k, 1024), 0x1003);
        stuff(L4K, ioba(t4k, 0), 0, 0);
        indirect(L4K, ioba(t4k, 0), LIST + 8, 1);
        assertThat(vfio.events).isEmpty();
    }

    @Test
    void getTceReadsZeroForNeverWrittenEntries() {
        HcallRegs r = HcallRegs.of(H_GET_TCE, L4K, ioba(t4k, 700));
        r.r5 = ioba(t4k, 700);
        assertThat(h.hcall(r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isZero();
        put(L4K, ioba(t4k, 700), 0x7001);
        r = HcallRegs.of(H_GET_TCE, L4K, ioba(t4k, 700));
        assertThat(h.hcall(r)).isEqualTo(H_SUCCESS);
        assertThat(r.r4).isEqualTo(0x7001);
    }

    @Test
    void translateFollowsTheTable() {
        put(L64K, ioba(t64k, 2), 0x5_0002);
        IommuTlbEvent e = t64k.translate(ioba(t64k, 2) + 0x123);
        assertThat(e).isEqualTo(new IommuTlbEvent(Type.MAP, 2L << 16, 0x50000, 0xffff, 2));
        assertThat(t64k.translate(ioba(t64k, 600))).isNull();
        assertThat(t64k.translate(t64k.busOffset() - 1)).isNull();
        assertThat(t64k.translate(ioba(t64k, 3)).perm()).isZero();
    }

    /**
     * Every entry QEMU touches goes through one bounds-checked accessor: a planted off-by-one in the handlers' own check
     * lets index nb_table through, and the accessor reports it (and writes nothing) instead of the model throwing.
     */
    @Test
    void anIndexPlantedPastTheTableIsReportedAsHostMemory() {
        List<String> reported = new ArrayList<>();
        QemuTceHandlers planted = new QemuTceHandlers(tables::get, mem, QemuPolicy.Planted.INDEX_BOUND_ONE_PAST,
                (who, access, bound) -> reported.add(who + ": " + access + " / " + bound));
        long rw = 0x10000 | Tce.READ | Tce.WRITE;
        assertThat(planted.hcall(HcallRegs.of(H_PUT_TCE, L4K, ioba(t4k, 1024), rw))).isEqualTo(H_SUCCESS);
        assertThat(reported).containsExactly("qemu: put_tce_emu writes tcet->table[0x400] of LIOBN 0x80000000 / the table has nb_table = 0x400 entries");
        assertThat(t4k.table().nonZeroEntries()).isEmpty();
        assertThat(planted.hcall(HcallRegs.of(H_PUT_TCE, L4K, ioba(t4k, 1025), rw))).as("two past: the planted check still holds").isEqualTo(H_PARAMETER);
        assertThat(put(L4K, ioba(t4k, 1024), rw)).as("QEMU as it is").isEqualTo(H_PARAMETER);
    }
}
