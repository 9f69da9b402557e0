package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
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
    static final Map<Hazard, Map<Design, String>> EXPECTED = Map.of(
            // The UNMAP-only notifier misses every overwrite; D4 invalidates on it but loses the late-answer race.
            Hazard.OVERWRITE_WITHOUT_CLEAR, all("STALE_ACCESS:the guest's TCE maps"),
            Hazard.RO_CACHED_RW, Map.of(Design.D0, "STALE_ACCESS:the guest's TCE maps", Design.D1, "STALE_ACCESS:the guest's TCE allows R- only",
                    Design.D2, "STALE_ACCESS:the guest's TCE allows R- only", Design.D3a, "STALE_ACCESS:the guest's TCE maps",
                    Design.D3b, "STALE_ACCESS:the guest's TCE allows R- only", Design.D4, "STALE_ACCESS:the guest's TCE for this IOVA is clear"),
            Hazard.WINDOW_REMOVAL, all("STALE_ACCESS:no DMA window"),
            // The same call leaves the first TCE written where QEMU ran it (D2) and none where KVM did.
            Hazard.PARTIAL_FAILURE, Map.of(Design.D0, "PROGRESS:a virtqueue waits for an UPDATE", Design.D1, "PROGRESS:a virtqueue waits for an UPDATE",
                    Design.D2, "safe", Design.D3a, "PROGRESS:a virtqueue waits for an UPDATE", Design.D3b, "PROGRESS:a virtqueue waits for an UPDATE",
                    Design.D4, "PROGRESS:a virtqueue waits for an UPDATE"),
            Hazard.MISS_ON_CLEARED, Map.of(Design.D0, "STALE_ACCESS:the guest's TCE maps", Design.D1, "PROGRESS:a virtqueue waits for an UPDATE",
                    Design.D2, "PROGRESS:a virtqueue waits for an UPDATE", Design.D3a, "STALE_ACCESS:the guest's TCE maps",
                    Design.D3b, "STALE_ACCESS:the guest's TCE allows R- only", Design.D4, "PROGRESS:a virtqueue waits for an UPDATE"),
            Hazard.UPDATE_SIZE_0, all("PROGRESS:a virtqueue waits for an UPDATE"));

    private static Map<Design, String> all(String what) {
        return Map.of(Design.D0, what, Design.D1, what, Design.D2, what, Design.D3a, what, Design.D3b, what, Design.D4, what);
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
}
