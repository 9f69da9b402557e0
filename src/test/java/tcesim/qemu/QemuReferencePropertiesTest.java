package tcesim.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.papr.Hcall.*;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;
import tcesim.testutil.HcallOps;
import tcesim.testutil.HcallOps.Geo;
import tcesim.testutil.HcallOps.Op;
import tcesim.testutil.Property;

/**
 * QEMU's handlers against a reference restating spapr_iommu.c: return codes, entries and notifier events.
 * The reference shares nothing with the implementation: register values are unsigned 64-bit numbers
 * ({@code target_ulong}) held as BigIntegers, window bounds are stated as "the ioba lies in the window",
 * entries live in a TreeMap per window.
 */
class QemuReferencePropertiesTest {
    static final long RAM = HcallOps.RAM;
    static final List<Geo> GEOS = HcallOps.GEOS;

    static final class Reference {
        static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

        final Map<Long, Geo> geos = new HashMap<>();
        final Map<Long, TreeMap<Long, Long>> entries = new HashMap<>();   // index in the window -> value
        final List<IommuTlbEvent> events = new ArrayList<>();
        long r4;

        Reference() {
            for (Geo g : GEOS) {
                geos.put(g.liobn(), g);
                entries.put(g.liobn(), new TreeMap<>());
            }
        }

        static BigInteger ulong(long v) {
            return new BigInteger(Long.toUnsignedString(v));
        }

        static BigInteger page(Geo g) { return BigInteger.valueOf(g.pageSize()); }

        static BigInteger busOffset(Geo g) { return BigInteger.valueOf(g.offset()).multiply(page(g)); }

        /** {@code ioba &= IOMMU_PAGE_MASK(page_shift)}. */
        static BigInteger maskToPage(Geo g, BigInteger ioba) {
            return ioba.subtract(ioba.mod(page(g)));
        }

        /** The index of {@code ioba} in the window, or -1 when the ioba lies outside [bus_offset, bus_offset + nb_table pages). */
        static long indexIn(Geo g, BigInteger ioba) {
            BigInteger rel = ioba.subtract(busOffset(g));
            if (rel.signum() < 0 || rel.compareTo(BigInteger.valueOf(g.size()).multiply(page(g))) >= 0) return -1;
            return rel.divide(page(g)).longValueExact();
        }

        /** put_tce_emu: one entry, stored as given, its notifier event. */
        long putEmu(Geo g, BigInteger ioba, long tce) {
            long index = indexIn(g, ioba);
            if (index < 0) return H_PARAMETER;
            if (tce == 0) entries.get(g.liobn()).remove(index);
            else entries.get(g.liobn()).put(index, tce);
            long pageBytes = g.pageSize();
            int perm = (int) (tce & 0x3);
            long iova = index * pageBytes;                    // (ioba - bus_offset) & page_mask
            long target = ulong(tce).subtract(ulong(tce).mod(page(g))).longValue();   // tce & page_mask
            events.add(new IommuTlbEvent(perm == 0 ? IommuTlbEvent.Type.UNMAP : IommuTlbEvent.Type.MAP, iova, target, pageBytes - 1, perm));
            return H_SUCCESS;
        }

        /** The next page's ioba, in target_ulong arithmetic. */
        static BigInteger nextPage(Geo g, BigInteger ioba) {
            return ioba.add(page(g)).mod(TWO_64);
        }

        /** The TCE the guest put at {@code list + 8 * i}; {@code ldq_be_phys} outside RAM reads 0. */
        static long listTce(Op op, int i) {
            BigInteger addr = ulong(op.arg()).add(BigInteger.valueOf(8L * i));
            boolean inRam = addr.add(BigInteger.valueOf(8)).compareTo(BigInteger.valueOf(RAM)) <= 0;
            return inRam && i < op.list().size() ? op.list().get(i) : 0;
        }

        long call(Op op) {
            long opc = op.opcode();
            if (opc != H_GET_TCE && opc != H_PUT_TCE && opc != H_STUFF_TCE && opc != H_PUT_TCE_INDIRECT) return H_FUNCTION;
            Geo g = geos.get(op.liobn());
            if (g == null) return H_PARAMETER;
            BigInteger ioba = maskToPage(g, ulong(op.ioba()));
            if (opc == H_GET_TCE) {
                long index = indexIn(g, ioba);
                if (index < 0) return H_PARAMETER;
                r4 = entries.get(g.liobn()).getOrDefault(index, 0L);
                return H_SUCCESS;
            }
            if (opc == H_PUT_TCE) return putEmu(g, ioba, op.arg());
            BigInteger n = ulong(op.npages());
            long ret = H_PARAMETER;
            if (opc == H_STUFF_TCE) {
                if (n.compareTo(BigInteger.valueOf(g.size())) > 0) return H_PARAMETER;
                for (long i = 0; i < n.longValueExact(); i++, ioba = nextPage(g, ioba)) {
                    ret = putEmu(g, ioba, op.arg());
                    if (ret != H_SUCCESS) break;
                }
                return ret;
            }
            if (n.compareTo(BigInteger.valueOf(512)) > 0 || ulong(op.arg()).mod(BigInteger.valueOf(4096)).signum() != 0) return H_PARAMETER;
            for (int i = 0; i < n.intValueExact(); i++, ioba = nextPage(g, ioba)) {
                ret = putEmu(g, ioba, listTce(op, i));
                if (ret != H_SUCCESS) break;
            }
            return ret;
        }
    }

    static final class Qemu {
        final GuestMemory mem = new GuestMemory(RAM);
        final Map<Long, SpaprTceTable> tables = new HashMap<>();
        final QemuTceHandlers h = new QemuTceHandlers(tables::get, mem);
        final List<IommuTlbEvent> events = new ArrayList<>();
        final List<IommuTlbEvent> vhostEvents = new ArrayList<>();

        Qemu() {
            for (Geo g : GEOS) {
                SpaprTceTable t = new SpaprTceTable(new TceTable(g.liobn(), g.shift(), g.offset(), g.size()), false);
                t.addNotifier(new IommuNotifier() {
                    @Override public boolean wantsMap() { return true; }
                    @Override public void notify(IommuTlbEvent e) { events.add(e); }
                });
                t.addNotifier(new IommuNotifier() {
                    @Override public boolean wantsMap() { return false; }
                    @Override public void notify(IommuTlbEvent e) { vhostEvents.add(e); }
                });
                tables.put(g.liobn(), t);
            }
        }
    }

    static void run(List<Op> ops) {
        Qemu q = new Qemu();
        Reference ref = new Reference();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            HcallOps.writeList(q.mem, op);
            HcallRegs regs = op.regs();
            q.events.clear();
            q.vhostEvents.clear();
            ref.events.clear();
            long want = ref.call(op);
            long got = q.h.hcall(regs);
            assertThat(returnName(got)).as("call %d %s", i, op).isEqualTo(returnName(want));
            if (op.opcode() == H_GET_TCE && want == H_SUCCESS) assertThat(regs.r4).as("r4 of %s", op).isEqualTo(ref.r4);
            assertThat(q.events).as("MAP/UNMAP events of call %d %s", i, op).isEqualTo(ref.events);
            assertThat(q.vhostEvents).as("vhost events of call %d %s", i, op)
                    .isEqualTo(ref.events.stream().filter(e -> e.type() == IommuTlbEvent.Type.UNMAP).toList());
            for (Geo g : GEOS) {
                TceTable t = q.tables.get(g.liobn()).table();
                // Entries can change only where events were reported: compare those (the end compares every entry).
                for (IommuTlbEvent e : ref.events) {
                    if (g.liobn() != op.liobn()) break;
                    long rel = e.iova() >>> g.shift();
                    long want2 = ref.entries.get(g.liobn()).getOrDefault(rel, 0L);
                    if (t.get(g.offset() + rel) != want2) throw new AssertionError(String.format("entry %d of 0x%x after call %d %s: 0x%x, expected 0x%x", rel, g.liobn(), i, op, t.get(g.offset() + rel), want2));
                }
                java.util.TreeMap<Long, Long> want3 = new java.util.TreeMap<>();
                ref.entries.get(g.liobn()).forEach((rel, v) -> {
                    if (v != 0) want3.put(g.offset() + rel, v);
                });
                assertThat(t.nonZeroEntries()).as("entries of 0x%x after call %d %s", g.liobn(), i, op).isEqualTo(want3);
            }
        }
        for (Geo g : GEOS) {
            TceTable t = q.tables.get(g.liobn()).table();
            for (long rel = 0; rel < g.size(); rel++) {
                long want = ref.entries.get(g.liobn()).getOrDefault(rel, 0L);
                if (t.get(g.offset() + rel) != want) throw new AssertionError(String.format("entry %d of 0x%x: 0x%x, expected 0x%x", rel, g.liobn(), t.get(g.offset() + rel), want));
            }
        }
    }

    @Test
    void qemuAgreesWithTheReference() {
        Property.forAll("qemu-vs-reference", Property.cases(), HcallOps.sequences(GEOS, RAM, 30), HcallOps.shrinker(),
                QemuReferencePropertiesTest::run);
    }
}
