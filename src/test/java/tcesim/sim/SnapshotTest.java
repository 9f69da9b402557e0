package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tcesim.guest.FirmwareFeatures;
import tcesim.kvm.HostCaps;
import tcesim.state.StateReader;
import tcesim.state.StateWriter;

/**
 * The saved state is the whole state: a stack restored from another's words, whatever it was doing before,
 * behaves from then on exactly as the one that saved them (same enabled steps, same saved words after every
 * step, same verdicts). This is what lets the checker keep states as words and dedupe them by their hash;
 * a field a component forgot to save makes the two runs part ways here.
 */
class SnapshotTest {
    static StackConfig small() {
        return StackConfig.seed().toBuilder().ramBytes(16L << 20).windowBytes(64L << 10).maxIotlbEntries(8).ringSize(2)
                .rxPackets(3).txPackets(3).kernelChurn(false).build();
    }

    static Stream<Arguments> configs() {
        List<Arguments> out = new ArrayList<>();
        for (Design d : Design.values()) out.add(Arguments.of(d.name(), d.applyTo(small())));
        FirmwareFeatures noStuff = new FirmwareFeatures(true, false, false, true);
        out.add(Arguments.of("D0 no STUFF_TCE", small().withFw(noStuff)));
        out.add(Arguments.of("D1 no INDIRECT, 2 vCPUs", Design.D1.applyTo(small().withFw(new FirmwareFeatures(false, true, false, true)).withVcpus(2))));
        out.add(Arguments.of("D2 no_vfio_tce", Design.D2.applyTo(small()).withHost(HostCaps.NO_VFIO_TCE)));
        out.add(Arguments.of("D0 kernel churn", small().toBuilder().kernelChurn(true).build()));
        out.add(Arguments.of("D0 passthrough and vhost", small().toBuilder().passthroughPackets(3).build()));
        out.add(Arguments.of("V skipped kills", Design.V.applyTo(small()).withFaults(StackConfig.Faults.of(StackConfig.Fault.SKIP_TCE_KILL))));
        out.add(Arguments.of("D3b skipVqLock", Design.D3b.applyTo(small()).withFaults(StackConfig.Faults.of(StackConfig.Fault.SKIP_VQ_LOCK))));
        out.add(Arguments.of("D0 virtio-blk disk", small().toBuilder().diskRequests(4).build()));
        out.add(Arguments.of("D3b virtio-blk disk, no STUFF_TCE", Design.D3b.applyTo(small().withFw(noStuff)).toBuilder().diskRequests(4).build()));
        out.add(Arguments.of("D0 virtio-blk disk, DDW guest", small().toBuilder().fw(new FirmwareFeatures(true, true, true, true)).diskRequests(4).build()));
        for (Hazard h : Hazard.values()) for (Design d : List.of(Design.D0, Design.D2, Design.D4)) out.add(Arguments.of(h.label() + " " + d, h.apply(d.applyTo(small()))));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void aRestoredStackBehavesAsTheOneThatSavedIt(String name, StackConfig cfg) {
        for (long seed = 1; seed <= 12; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            Stack a = new Stack(cfg, Trace.off());
            Stack b = new Stack(cfg, Trace.off());
            walk(a, r, 1 + r.nextInt(60));
            walk(b, r, r.nextInt(60));             // b is somewhere else entirely
            if (a.violation() != null) continue;   // the checker never expands a state past a violation
            long[] words = words(a);
            StateReader in = new StateReader(words);
            b.restore(in);
            assertThat(in.atEnd()).as("%s seed %d: restore reads every word", name, seed).isTrue();
            assertBehavesAs(a, b, r, name + " seed " + seed);
        }
    }

    /**
     * The checker's way back to a state: from one of its successors, saved, or from an unrelated saved state, a
     * stack that restores only the components whose words changed behaves exactly as one restored in full.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void restoringOnlyTheChangedComponentsIsARestore(String name, StackConfig cfg) {
        for (long seed = 1; seed <= 12; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            Stack a = new Stack(cfg, Trace.off());
            Stack b = new Stack(cfg, Trace.off());
            walk(a, r, 1 + r.nextInt(60));
            if (a.violation() != null) continue;
            long[] x = words(a);
            boolean successor = r.nextBoolean();
            if (successor) b.restore(new StateReader(x));  // b at x, then a few steps on (a successor of x)
            walk(b, r, successor ? 1 + r.nextInt(8) : r.nextInt(60));
            words(b);                                      // b remembers the state it is in
            StateReader in = new StateReader(x);
            b.restoreChanged(in);
            assertThat(in.atEnd()).as("%s seed %d: restoreChanged reads or passes over every word", name, seed).isTrue();
            assertBehavesAs(a, b, r, name + " seed " + seed + (successor ? ", back from a successor" : ", from another state"));
        }
    }

    /** {@code b}, just restored from {@code a}'s words, saves them and then runs as {@code a} does, step by step, for 200 random steps. */
    private static void assertBehavesAs(Stack a, Stack b, SplittableRandom r, String what) {
        assertThat(words(b)).as("%s: state after restore", what).containsExactly(words(a));
        for (int i = 0; i < 200; i++) {
            StepList sa = new StepList();
            StepList sb = new StepList();
            a.enabledSteps(sa);
            b.enabledSteps(sb);
            assertThat(describe(sb)).as("%s, step %d after restore: enabled steps", what, i).isEqualTo(describe(sa));
            Violation va = a.violation();
            Violation vb = b.violation();
            assertThat(vb == null ? null : vb.property() + " " + vb.why()).as("%s, step %d: verdict", what, i)
                    .isEqualTo(va == null ? null : va.property() + " " + va.why());
            if (sa.size() == 0 || va != null) break;
            int c = r.nextInt(sa.size());
            sa.actor(c).step(sa.kind(c));
            sb.actor(c).step(sb.kind(c));
            assertThat(words(b)).as("%s, step %d after restore: state", what, i).containsExactly(words(a));
        }
    }

    private static void walk(Stack s, SplittableRandom r, int steps) {
        StepList l = new StepList();
        for (int i = 0; i < steps && s.violation() == null; i++) {
            s.enabledSteps(l);
            if (l.size() == 0) return;
            int c = r.nextInt(l.size());
            l.actor(c).step(l.kind(c));
        }
    }

    private static long[] words(Stack s) {
        StateWriter w = new StateWriter();
        s.save(w);
        return w.toArray();
    }

    private static List<String> describe(StepList l) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) out.add(l.actor(i).name() + ":" + l.actor(i).stepName(l.kind(i)));
        return out;
    }
}
