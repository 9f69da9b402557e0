package tcesim.kvm;

import static tcesim.papr.Hcall.*;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;
import tcesim.qemu.QemuTceHandlers;
import tcesim.qemu.SpaprTceTable;
import tcesim.testutil.HcallOps;
import tcesim.testutil.HcallOps.Geo;
import tcesim.testutil.HcallOps.Op;
import tcesim.testutil.Property;

/** No register values make either handler set throw (the harness reports the seed of any Throwable). */
class NoThrowPropertiesTest {
    static final long RAM = HcallOps.RAM;
    static final List<Geo> GEOS = HcallOps.GEOS;
    static final long[] EDGES = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, RAM, RAM - 4096, 4096, 512, 513, 1L << 59};

    static long anyLong(SplittableRandom r) {
        return r.nextBoolean() ? EDGES[r.nextInt(EDGES.length)] : r.nextLong();
    }

    /** Mostly wild registers, sometimes the edge-aimed ops of the reference properties. */
    static Op wild(SplittableRandom r) {
        if (r.nextInt(3) == 0) return HcallOps.op(r, GEOS, RAM);
        long[] ops = {H_GET_TCE, H_PUT_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, r.nextLong()};
        Geo g = GEOS.get(r.nextInt(GEOS.size()));
        long liobn = r.nextInt(4) == 0 ? anyLong(r) : g.liobn();
        return new Op(ops[r.nextInt(ops.length)], liobn, anyLong(r), anyLong(r), anyLong(r), List.of());
    }

    static void run(List<Op> ops) {
        GuestMemory mem = new GuestMemory(RAM);
        Map<Long, KvmSpaprTceTable> kt = new HashMap<>();
        Map<Long, SpaprTceTable> qt = new HashMap<>();
        for (Geo g : GEOS) {
            kt.put(g.liobn(), new KvmSpaprTceTable(new TceTable(g.liobn(), g.shift(), g.offset(), g.size())));
            qt.put(g.liobn(), new SpaprTceTable(new TceTable(g.liobn(), g.shift(), g.offset(), g.size()), false));
        }
        KvmTceHandlers kvm = new KvmTceHandlers(kt::get, mem, KvmPolicy.STOCK);
        KvmTceHandlers kvmD1 = new KvmTceHandlers(kt::get, mem, new KvmPolicy(true));
        QemuTceHandlers qemu = new QemuTceHandlers(qt::get, mem);
        for (Op op : ops) {
            HcallOps.writeList(mem, op);
            HcallRegs regs = op.regs();
            try {
                kvm.hcall(KvmTceHandlers.Mode.REAL, op.regs());
                kvm.hcall(KvmTceHandlers.Mode.VIRTUAL, op.regs());
                kvmD1.hcall(KvmTceHandlers.Mode.VIRTUAL, op.regs());
                qemu.hcall(regs);
            } catch (Throwable t) {
                throw new AssertionError("handler threw on " + op + ": " + t, t);
            }
        }
    }

    @Test
    void noInputMakesAHandlerThrow() {
        Property.forAll("handlers-never-throw", Property.cases(),
                r -> {
                    int n = 1 + r.nextInt(20);
                    java.util.ArrayList<Op> l = new java.util.ArrayList<>();
                    for (int i = 0; i < n; i++) l.add(wild(r));
                    return l;
                },
                HcallOps.shrinker(), NoThrowPropertiesTest::run);
    }
}
