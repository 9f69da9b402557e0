package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tcesim.sim.Design;
import tcesim.sim.Hazard;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/** What the checker finds for each hazard next to the seed's bug, under each vhost design (pinned once established). */
class HazardTest {
    static final StackConfig SMALL = StackConfig.seed().toBuilder().ramBytes(16L << 20).windowBytes(64L << 10).maxIotlbEntries(8).ringSize(2)
            .rxPackets(2).txPackets(2).kernelChurn(false).build();

    /** hazard -> design -> expected: "safe", or the property broken and the start of the reason. */
    static final String MAPS = "STALE_ACCESS:the guest's TCE maps", RO = "STALE_ACCESS:the guest's TCE allows R- only",
            STALLS = "PROGRESS:a virtqueue stopped on a MISS waits for an UPDATE", HOST = "HOST_MEMORY:past its bound: the window has 0x2000 entries";

    /** hazard -> design -> expected: "safe", or the property broken and the start of the reason. */
    static final Map<Hazard, Map<Design, String>> EXPECTED = Map.of(
            // The UNMAP-only notifier misses every overwrite; D4 invalidates on it but loses the late-answer race.
            Hazard.OVERWRITE_WITHOUT_CLEAR, all(MAPS),
            // D0, D3a and D4 break through the unsafe clear before the RW entry matters.
            Hazard.RO_CACHED_RW, designs(MAPS, RO, RO, MAPS, RO, MAPS, MAPS),
            Hazard.WINDOW_REMOVAL, all("STALE_ACCESS:no DMA window"),
            // A 2019 KVM checks the call's first entry only and writes the second past the window; QEMU (D2) stops at it.
            Hazard.PARTIAL_FAILURE, designs(HOST, HOST, "safe", HOST, HOST, HOST, HOST),
            Hazard.MISS_ON_CLEARED, designs(MAPS, STALLS, STALLS, MAPS, STALLS, MAPS, MAPS),
            // Every era the model has refuses the size-0 UPDATE (2019: -EFAULT, 2022: -EINVAL), so the MISS stays unanswered.
            Hazard.UPDATE_SIZE_0, all(STALLS));

    /** The expectations for D0, D1, D2, D3a, D3b, D4 and D4k, in that order. */
    private static Map<Design, String> designs(String d0, String d1, String d2, String d3a, String d3b, String d4, String d4k) {
        return Map.of(Design.D0, d0, Design.D1, d1, Design.D2, d2, Design.D3a, d3a, Design.D3b, d3b, Design.D4, d4, Design.D4k, d4k);
    }

    private static Map<Design, String> all(String what) {
        return designs(what, what, what, what, what, what, what);
    }

    @ParameterizedTest
    @EnumSource(Hazard.class)
    void eachHazardUnderEachDesign(Hazard h) {
        for (Map.Entry<Design, String> e : EXPECTED.get(h).entrySet()) {
            StackConfig c = h.apply(e.getKey().applyTo(SMALL));
            Checker.Result r = new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(1_000_000, 2, true, null, h.properties())).run();
            String what = e.getValue();
            if (what.equals("safe")) {
                assertThat(r.verdict()).as("%s under %s", h, e.getKey()).isEqualTo(Checker.Verdict.SAFE);
            } else {
                String[] p = what.split(":", 2);
                assertThat(r.verdict()).as("%s under %s", h, e.getKey()).isEqualTo(Checker.Verdict.UNSAFE);
                assertThat(r.violation().property()).as("%s under %s", h, e.getKey()).isEqualTo(Violation.Property.valueOf(p[0]));
                assertThat(r.violation().why()).as("%s under %s", h, e.getKey()).startsWith(p[1]);
            }
        }
    }

    /** A current kernel checks every entry of the call: KVM refuses it whole, nothing reaches host memory, and the queue stalls. */
    @Test
    void onACurrentKernelThePartialFailureStallsInsteadOfReachingHostMemory() {
        for (Design d : new Design[] {Design.D0, Design.D2}) {
            StackConfig c = Hazard.PARTIAL_FAILURE.apply(d.applyTo(SMALL)).toBuilder()
                    .host(SMALL.host().withKernel(tcesim.kvm.HostCaps.HostKernel.CURRENT)).build();
            Checker.Result r = new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(1_000_000, 2, true, null, Hazard.PARTIAL_FAILURE.properties())).run();
            if (d == Design.D2) {
                assertThat(r.verdict()).isEqualTo(Checker.Verdict.SAFE);
            } else {
                assertThat(r.violation().property()).isEqualTo(Violation.Property.PROGRESS);
                Checker.Result host = new Checker(() -> new Stack(c, Trace.off()),
                        new Checker.Options(1_000_000, 2, true, null, java.util.EnumSet.of(Violation.Property.HOST_MEMORY))).run();
                assertThat(host.verdict()).as("no host memory reached on a current kernel").isEqualTo(Checker.Verdict.SAFE);
            }
        }
    }
}
