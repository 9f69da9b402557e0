package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import tcesim.sim.Design;
import tcesim.sim.Mechanisms;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * Each new mechanism is needed by a design the checker finds safe: taken out of that design, the checker finds the
 * violation it prevents (on the small configuration of StackCheckTest).
 */
class MechanismMutationTest {
    static Checker.Result check(StackConfig c, java.util.Set<Violation.Property> props) {
        return new Checker(() -> new Stack(c, Trace.off()), new Checker.Options(3_000_000, 1, true, null, props)).run();
    }

    static Checker.Result check(Design d) {
        StackConfig c = StackCheckTest.small(d, StackCheckTest.LINUX);
        return check(c, c.defaultProperties());
    }

    @Test
    void withoutDroppingTheLateUpdateTheLinkLosesTheDuplicateMissRace() {
        Design fixed = Design.parse("D4+drop-late-update");
        assertThat(check(fixed).verdict()).isEqualTo(Checker.Verdict.SAFE);
        Design mutant = Design.of(fixed.mechanisms().withVhost(Mechanisms.VhostSide.TODAY));
        Checker.Result r = check(mutant);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
    }

    @Test
    void withoutASingleMissPerIovaTheLinkLosesTheDuplicateMissRace() {
        Design fixed = Design.parse("D4+single-miss");
        assertThat(check(fixed).verdict()).isEqualTo(Checker.Verdict.SAFE);
        Checker.Result r = check(Design.of(fixed.mechanisms().withVhost(Mechanisms.VhostSide.TODAY)));
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
        assertThat(r.violation().property()).isEqualTo(Violation.Property.STALE_ACCESS);
    }

    @Test
    void withoutTheTcesOwnPermissionAGuestThatTakesABufferBackIsWrittenThroughAReadOnlyTce() {
        EnumSet<Violation.Property> props = EnumSet.of(Violation.Property.STALE_ACCESS, Violation.Property.CORRUPTION, Violation.Property.ISOLATION);
        Design fixed = Design.parse("D2+tce-perm");
        // Two packets each way, as check's small configuration: with one TX packet no IOVA comes back as a TX buffer in time.
        StackConfig c = StackCheckTest.small(fixed, StackCheckTest.LINUX).toBuilder().txPackets(2).rxRevokes(1).build();
        assertThat(check(c, props).verdict()).isEqualTo(Checker.Verdict.SAFE);
        Checker.Result r = check(c.withDesign(Design.of(fixed.mechanisms().withAnswer(Mechanisms.Answer.RW))), props);
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.UNSAFE);
    }
}
