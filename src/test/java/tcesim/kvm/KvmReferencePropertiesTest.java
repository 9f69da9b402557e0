package tcesim.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.papr.Hcall.*;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import tcesim.kvm.KvmTceHandlers.Mode;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.Mix;
import tcesim.papr.TceTable;
import tcesim.testutil.HcallOps;
import tcesim.testutil.HcallOps.Geo;
import tcesim.testutil.HcallOps.Op;
import tcesim.testutil.Property;

/**
 * KVM's handlers against a reference written from the rules (a TreeMap per window): same return code,
 * same H_GET_TCE value and same entries after every call.
 */
class KvmReferencePropertiesTest {
    static final long RAM = HcallOps.RAM;
    static final List<Geo> GEOS = HcallOps.GEOS;

    /** The rules restated: entries in TreeMaps, chunks that ever held a non-zero value. */
    static final class Reference {
        final Map<Long, Geo> geos = new HashMap<>();
        final Map<Long, TreeMap<Long, Long>> entries = new HashMap<>();
        final Map<Long, Set<Long>> backed = new HashMap<>();
        long r4;

        Reference() {
            for (Geo g : GEOS) {
                geos.put(g.liobn(), g);
                entries.put(g.liobn(), new TreeMap<>());
                backed.put(g.liobn(), new HashSet<>());
            }
        }

        void store(Geo g, long idx, long v) {
            if (v != 0) backed.get(g.liobn()).add((idx - g.offset()) >>> TceTable.CHUNK_SHIFT);
            if (v == 0) entries.get(g.liobn()).remove(idx);
            else entries.get(g.liobn()).put(idx, v);
        }

        static boolean iobaOk(Geo g, long ioba, long n) {
            long idx = ioba >>> g.shift();
            return (ioba & (g.pageSize() - 1)) == 0 && idx >= g.offset()
                    && Long.compareUnsigned(idx - g.offset() + n, g.size()) <= 0
                    && Long.compareUnsigned(idx + n, idx) >= 0;
        }

        /** Real mode: every chunk of [idx, idx + n) must already have storage; with n = 0, idx's chunk unless idx starts it. */
        boolean allBacked(Geo g, long ioba, long n) {
            long rel = (ioba >>> g.shift()) - g.offset();
            if (n == 0) return (rel & (TceTable.CHUNK_ENTRIES - 1)) == 0 || backed.get(g.liobn()).contains(rel >>> TceTable.CHUNK_SHIFT);
            for (long c = rel >>> TceTable.CHUNK_SHIFT; c <= (rel + n - 1) >>> TceTable.CHUNK_SHIFT; c++)
                if (!backed.get(g.liobn()).contains(c)) return false;
            return true;
        }

        static boolean inRam(long gpa) { return gpa >= 0 && gpa < RAM; }

        static long validate(Mode m, Geo g, long tce) {
            if ((tce & 3) == 0) return H_SUCCESS;
            long gpa = tce & ~3L;
            if ((gpa & (g.pageSize() - 1)) != 0) return m == Mode.REAL ? H_PARAMETER : H_TOO_HARD;
            return inRam(gpa) ? H_SUCCESS : H_TOO_HARD;
        }

        long call(Mode m, Op op) {
            long opc = op.opcode();
            if (opc != H_GET_TCE && opc != H_PUT_TCE && opc != H_STUFF_TCE && opc != H_PUT_TCE_INDIRECT) return H_TOO_HARD;
            Geo g = geos.get(op.liobn());
            if (g == null) return H_TOO_HARD;
            long idx = op.ioba() >>> g.shift();
            if (opc == H_GET_TCE) {
                if (!iobaOk(g, op.ioba(), 1)) return H_PARAMETER;
                r4 = entries.get(g.liobn()).getOrDefault(idx, 0L);
                return H_SUCCESS;
            }
            if (opc == H_PUT_TCE) {
                long tce = op.arg();
                if (!iobaOk(g, op.ioba(), 1)) return H_PARAMETER;
                if (m == Mode.REAL && tce != 0 && !allBacked(g, op.ioba(), 1)) return H_TOO_HARD;
                long rc = validate(m, g, tce);
                if (rc != H_SUCCESS) return rc;
                store(g, idx, tce);
                return H_SUCCESS;
            }
            long n = op.npages();
            if (opc == H_STUFF_TCE) {
                if (!iobaOk(g, op.ioba(), n)) return H_PARAMETER;
                if (m == Mode.REAL && op.arg() != 0 && !allBacked(g, op.ioba(), n)) return H_TOO_HARD;
                if ((op.arg() & 3) != 0) return H_PARAMETER;
                for (long i = 0; i < n; i++) store(g, idx + i, op.arg());
                return H_SUCCESS;
            }
            // H_PUT_TCE_INDIRECT
            if (Long.compareUnsigned(n, 512) > 0 || (op.arg() & 4095) != 0) return H_PARAMETER;
            if (!iobaOk(g, op.ioba(), n)) return H_PARAMETER;
            if (m == Mode.REAL && !allBacked(g, op.ioba(), n)) return H_TOO_HARD;
            if (!inRam(op.arg())) return H_TOO_HARD;
            for (int i = 0; i < n; i++) {
                long rc = validate(m, g, tce(op, i));
                if (rc != H_SUCCESS) return rc;
            }
            for (int i = 0; i < n; i++) {
                if (!inRam(tce(op, i) & ~3L)) return H_PARAMETER;
                store(g, idx + i, tce(op, i));
            }
            return H_SUCCESS;
        }

        static long tce(Op op, int i) { return i < op.list().size() ? op.list().get(i) : 0; }

        long digest(Geo g) {
            long h = 17;
            for (Map.Entry<Long, Long> e : entries.get(g.liobn()).entrySet()) h = Mix.mix(h, e.getKey() - g.offset(), e.getValue());
            return h;
        }
    }

    /** The system under test: KVM tables over one guest memory. */
    static final class Kvm {
        final GuestMemory mem = new GuestMemory(RAM);
        final Map<Long, KvmSpaprTceTable> tables = new HashMap<>();
        final KvmTceHandlers h = new KvmTceHandlers(tables::get, mem, KvmPolicy.STOCK);

        Kvm() {
            for (Geo g : GEOS) tables.put(g.liobn(), new KvmSpaprTceTable(new TceTable(g.liobn(), g.shift(), g.offset(), g.size())));
        }
    }

    static void assertSameState(Kvm kvm, Reference ref, String when) {
        for (Geo g : GEOS)
            assertThat(kvm.tables.get(g.liobn()).table().digest(17)).as("entries of 0x%x %s", g.liobn(), when).isEqualTo(ref.digest(g));
    }

    static void assertSameEntries(Kvm kvm, Reference ref) {
        for (Geo g : GEOS) {
            TceTable t = kvm.tables.get(g.liobn()).table();
            TreeMap<Long, Long> m = ref.entries.get(g.liobn());
            for (long i = g.offset(); i < g.offset() + g.size(); i++)
                if (t.get(i) != m.getOrDefault(i, 0L)) throw new AssertionError(String.format("entry 0x%x of 0x%x: 0x%x, expected 0x%x", i, g.liobn(), t.get(i), m.getOrDefault(i, 0L)));
        }
    }

    /** One step; with {@code realFirst}, real mode runs first and falls back to virtual mode on H_TOO_HARD. */
    static void step(Kvm kvm, Reference ref, Op op, boolean realFirst, int i) {
        HcallOps.writeList(kvm.mem, op);
        if (realFirst) {
            HcallRegs regs = op.regs();
            long want = ref.call(Mode.REAL, op);
            long got = kvm.h.hcall(Mode.REAL, regs);
            assertThat(Hcall(got)).as("real mode, call %d %s", i, op).isEqualTo(Hcall(want));
            if (op.opcode() == H_GET_TCE && want == H_SUCCESS) assertThat(regs.r4).as("r4 of %s", op).isEqualTo(ref.r4);
            assertSameState(kvm, ref, "after real-mode call " + i + " " + op);
            if (got != H_TOO_HARD) return;
        }
        HcallRegs regs = op.regs();
        long want = ref.call(Mode.VIRTUAL, op);
        long got = kvm.h.hcall(Mode.VIRTUAL, regs);
        assertThat(Hcall(got)).as("virtual mode, call %d %s", i, op).isEqualTo(Hcall(want));
        if (op.opcode() == H_GET_TCE && want == H_SUCCESS) assertThat(regs.r4).as("r4 of %s", op).isEqualTo(ref.r4);
        assertSameState(kvm, ref, "after call " + i + " " + op);
    }

    private static String Hcall(long rc) { return returnName(rc); }

    static void run(List<Op> ops, boolean realFirst) {
        Kvm kvm = new Kvm();
        Reference ref = new Reference();
        for (int i = 0; i < ops.size(); i++) step(kvm, ref, ops.get(i), realFirst, i);
        assertSameEntries(kvm, ref);
    }

    @Test
    void virtualModeAgreesWithTheReference() {
        Property.forAll("kvm-virtual-vs-reference", Property.cases(), HcallOps.sequences(GEOS, RAM, 30), HcallOps.shrinker(),
                ops -> run(ops, false));
    }

    @Test
    void realModeThenFallbackAgreesWithTheReference() {
        Property.forAll("kvm-real-fallback-vs-reference", Property.cases(), HcallOps.sequences(GEOS, RAM, 30), HcallOps.shrinker(),
                ops -> run(ops, true));
    }
}
