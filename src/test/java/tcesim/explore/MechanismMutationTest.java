package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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

    /**
     * Each way a clear reaches vhost, taken out of a design it makes safe for the Linux guest, and the checker finds the
     * stale access it prevented. D4k's link with drop-late-update is checked on the era whose TCE kill covers the
     * cleared entries (on 2019 kernels the link invalidates the entries after them).
     */
    @ParameterizedTest(name = "{0} without {2}")
    @CsvSource({
            "D1, 2019, its exit for H_STUFF_TCE, kvm-table+no-clear-path",
            "D2, 2019, the table in QEMU, kvm-table+no-clear-path",
            "D3b, 2019, the wait for QEMU's acknowledgement, kvm-table+eventfd",
            "D3b, 2019, the eventfd, kvm-table+no-clear-path",
            "D4+drop-late-update, 2019, the link, kvm-table+no-clear-path+drop-late-update",
            "D4k+drop-late-update, current, the link invalidating the TCE kills' ranges, kvm-table+no-clear-path+drop-late-update"})
    void withoutItsClearPathASafeDesignLosesTheClear(String fixed, String era, String mechanism, String mutant) {
        tcesim.kvm.HostCaps host = StackConfig.seed().host().withKernel(tcesim.kvm.HostCaps.HostKernel.ofYear(era));
        StackConfig c = StackCheckTest.small(Design.parse(fixed), StackCheckTest.LINUX).toBuilder().host(host).build();
        assertThat(check(c, c.defaultProperties()).verdict()).as(fixed).isEqualTo(Checker.Verdict.SAFE);
        Design m = Design.parse(mutant);
        assertThat(m.mechanisms()).isEqualTo(Design.parse(fixed).mechanisms().withClear(m.mechanisms().clear()).withTable(m.mechanisms().table()));
        StackConfig mc = c.withDesign(m);
        Checker.Result r = check(mc, mc.defaultProperties());
        assertThat(r.verdict()).as(fixed + " without " + mechanism).isEqualTo(Checker.Verdict.UNSAFE);
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
