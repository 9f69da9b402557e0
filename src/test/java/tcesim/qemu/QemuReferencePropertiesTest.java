package tcesim.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.papr.Hcall.*;

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

/** QEMU's handlers against a reference restating spapr_iommu.c: return codes, entries and notifier events. */
class QemuReferencePropertiesTest {
    static final long RAM = HcallOps.RAM;
    static final List<Geo> GEOS = HcallOps.GEOS;

    static final class Reference {
        final Map<Long, Geo> geos = new HashMap<>();
        final Map<Long, TreeMap<Long, Long>> entries = new HashMap<>();   // relative index -> value
        final List<IommuTlbEvent> events = new ArrayList<>();
        long r4;

        Reference() {
            for (Geo g : GEOS) {
                geos.put(g.liobn(), g);
                entries.put(g.liobn(), new TreeMap<>());
            }
        }

        /** put_tce_emu. */
        long putEmu(Geo g, long ioba, long tce) {
            long index = (ioba - (g.offset() << g.shift())) >>> g.shift();
            if (Long.compareUnsigned(index, g.size()) >= 0) return H_PARAMETER;
            if (tce == 0) entries.get(g.liobn()).remove(index);
            else entries.get(g.liobn()).put(index, tce);
            long mask = ~(g.pageSize() - 1);
            int perm = (int) (tce & 3);
            events.add(new IommuTlbEvent(perm == 0 ? IommuTlbEvent.Type.UNMAP : IommuTlbEvent.Type.MAP,
                    (ioba - (g.offset() << g.shift())) & mask, tce & mask, g.pageSize() - 1, perm));
            return H_SUCCESS;
        }

        long call(Op op) {
            long opc = op.opcode();
            if (opc != H_GET_TCE && opc != H_PUT_TCE && opc != H_STUFF_TCE && opc != H_PUT_TCE_INDIRECT) return H_FUNCTION;
            Geo g = geos.get(op.liobn());
            if (g == null) return H_PARAMETER;
            long ioba = op.ioba() & ~(g.pageSize() - 1);
            if (opc == H_GET_TCE) {
                long index = (ioba - (g.offset() << g.shift())) >>> g.shift();
                if (Long.compareUnsigned(index, g.size()) >= 0) return H_PARAMETER;
                r4 = entries.get(g.liobn()).getOrDefault(index, 0L);
                return H_SUCCESS;
            }
            if (opc == H_PUT_TCE) return putEmu(g, ioba, op.arg());
            long n = op.npages();
            long ret = H_PARAMETER;
            if (opc == H_STUFF_TCE) {
                if (Long.compareUnsigned(n, g.size()) > 0) return H_PARAMETER;
                for (long i = 0; i < n; i++, ioba += g.pageSize()) {
                    ret = putEmu(g, ioba, op.arg());
                    if (ret != H_SUCCESS) break;
                }
                return ret;
            }
            if (Long.compareUnsigned(n, 512) > 0 || (op.arg() & 4095) != 0) return H_PARAMETER;
            boolean listInRam = op.arg() >= 0 && op.arg() < RAM;
            for (int i = 0; i < n; i++, ioba += g.pageSize()) {
                long tce = listInRam && i < op.list().size() ? op.list().get(i) : 0;
                ret = putEmu(g, ioba, tce);
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
                // Entries can change only where events were reported; compare those and a digest of all.
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
