package tcesim.report;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import tcesim.guest.Symptom;
import tcesim.kvm.HcallPath;
import tcesim.sim.Event;
import tcesim.sim.Simulation;
import tcesim.sim.Stack;
import tcesim.sim.Stats;
import tcesim.sim.Violation;

/** Plain-text account of a run: the violation with its causal history, the guest's symptoms, and the counters. */
public final class TextReport {
    private TextReport() {}

    public static void violation(PrintWriter out, Stack stack, Violation v) {
        out.printf("VIOLATION: %s at step %d%n", v.property().label(), v.step());
        out.printf("  access: %s %s%n", v.actor(), v.access());
        out.printf("  but:    %s%n", v.why());
        if (v.iova() >= 0) {
            out.printf("%nHistory of IOVA 0x%x:%n", v.iova() & ~0xfffL);
            for (Event e : stack.trace().historyOfIova(v.iova())) out.println("  " + e.format());
        }
        if (v.gpa() >= 0) {
            out.printf("%nHistory of guest page 0x%x:%n", v.gpa() & ~0xfffL);
            for (Event e : stack.trace().historyOfGpa(v.gpa())) out.println("  " + e.format());
        }
        List<Long> others = new ArrayList<>();
        if (v.gpa() >= 0) {
            for (Event e : stack.trace().historyOfGpa(v.gpa())) {
                if (e.iova() >= 0 && (e.iova() >>> 12) != (v.iova() >>> 12) && !others.contains(e.iova() & ~0xfffL)) others.add(e.iova() & ~0xfffL);
            }
        }
        for (long o : others) {
            out.printf("%nHistory of IOVA 0x%x (the page's other mapping):%n", o);
            for (Event e : stack.trace().historyOfIova(o)) out.println("  " + e.format());
        }
    }

    public static void symptoms(PrintWriter out, Stack stack) {
        List<Symptom> all = new ArrayList<>(stack.driver().symptoms());
        if (stack.blkDriver() != null) all.addAll(stack.blkDriver().symptoms());
        all.addAll(stack.wireSymptoms());
        if (all.isEmpty()) return;
        out.printf("%nWhat the guest and the wire see (%d):%n", all.size());
        for (int i = 0; i < Math.min(5, all.size()); i++) out.println("  " + all.get(i).what() + ": " + all.get(i).detail());
    }

    public static void stats(PrintWriter out, Stack stack, Simulation.Result r) {
        Stats s = stack.stats();
        out.printf("%nRun: %d steps, %d RX and %d TX packets through vhost, %d hypercalls (%d errors)%n", r.steps(), s.packetsRx, s.packetsTx,
                s.hcalls(HcallPath.REAL_MODE) + s.hcalls(HcallPath.VIRTUAL_MODE) + s.hcalls(HcallPath.QEMU), s.hcallErrors);
        TreeMap<String, String> rows = new TreeMap<>();
        for (int op = 0; op < Stats.opCount(); op++) {
            long rm = s.hcallsByIndex(op, HcallPath.REAL_MODE), vm = s.hcallsByIndex(op, HcallPath.VIRTUAL_MODE), q = s.hcallsByIndex(op, HcallPath.QEMU);
            if (rm + vm + q > 0) rows.put(Stats.opName(op), String.format("real mode %d, virtual mode %d, QEMU %d", rm, vm, q));
        }
        rows.forEach((k, v) -> out.printf("  %-19s %s%n", k, v));
        var tlb = stack.vhost().iotlb();
        out.printf("  vhost IOTLB: %d entries, %d hits, %d misses, %d evictions; QEMU sent %d UPDATE, %d INVALIDATE; %d misses unanswered%n",
                tlb.size(), tlb.hits(), tlb.misses(), tlb.evictions(), s.updates, s.invalidates, s.missesUnanswered);
        if (stack.blk() != null) {
            out.printf("  virtio-blk: %d of %d requests completed, served by QEMU through the window's IOMMU region (no vhost IOTLB entry)%s%n",
                    stack.blkDriver().completed(), stack.blkDriver().requests(), stack.blk().broken() == null ? "" : "; broken: " + stack.blk().broken());
        }
        out.printf("  trace hash %016x%n", r.traceHash());
    }

    /** Events as numbered steps ("  12. vcpu0  H_STUFF_TCE  H_STUFF_TCE(...) = H_SUCCESS [real mode]"), boot-time events first under "boot". */
    public static void numberedTrace(PrintWriter out, List<Event> events) {
        long lastStep = -1;
        int n = 0;
        for (Event e : events) {
            boolean same = e.step() == lastStep;
            lastStep = e.step();
            if (!same && e.step() > 0) n++;
            String label = e.step() == 0 ? (same ? "" : "boot") : same ? "" : n + ".";
            out.printf("  %5s %-9s %-16s %s%n", label, e.actor(), e.action(), e.detail());
        }
    }
}
