package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import tcesim.sim.Design;
import tcesim.sim.Mechanisms;

/** A design given as a combination of mechanisms: on the command line and in a scenario file's {@code design:} map. */
class DesignOptionTest {
    @Test
    void theCommandLineTakesACombinationAndNamesItInTheReplayLine() {
        CliRun r = CliRun.of("repro", "--design", "kvm-table,link,drop-late-update,tce-perm", "--packets", "2", "--tx-packets", "0");
        assertThat(r.stdout()).contains("design D4+drop-late-update+tce-perm (D4; vhost drops an UPDATE");
        CliRun named = CliRun.of("repro", "--design", "kvm-table+link", "--packets", "2", "--tx-packets", "0");
        assertThat(named.stdout()).contains("design D4 (KVM invalidates vhost's IOTLB itself");
    }

    @Test
    void aBadCombinationIsOneLineAndExitTwo() {
        CliRun r = CliRun.of("repro", "--design", "qemu-table+link");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("KVM never sees a TCE hypercall").doesNotContain("Exception");
        assertThat(CliRun.of("check", "--help").stdout()).contains("drop-late-update").contains("tce-perm");
    }

    @Test
    void aScenarioGivesTheDesignAsAMapOfMechanisms() throws Exception {
        Scenario.Loaded l = Scenario.parse("s", "design:\n  table: kvm\n  clear: link\n  vhost: both\n  answer: tce-perm\n");
        assertThat(l.config().design()).isEqualTo(Design.parse("D4+drop-late-update+single-miss+tce-perm"));
        assertThat(Scenario.parse("s", "design:\n  table: qemu\n").config().design()).isSameAs(Design.D2);
        assertThat(Scenario.parse("s", "design:\n  clear: eventfd-ack\n").config().design()).isSameAs(Design.D3b);
        assertThat(Scenario.parse("s", "design: D3a+single-miss\n").config().design().mechanisms().vhost()).isEqualTo(Mechanisms.VhostSide.SINGLE_MISS);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "design:\\n  table: kvm\\n  clear: fast|s:3: design.clear: unknown value 'fast' (one of none, stuff-exit, every-exit, eventfd, eventfd-ack, link, link-kill)",
            "design:\\n  vhost: never|s:2: design.vhost: unknown value 'never' (one of today, drop-late-update, single-miss, both)",
            "design:\\n  answer: 3|s:2: design.answer: must be a name, got 3",
            "design:\\n  table: qemu\\n  clear: link|s:3: design.clear: clear path link is KVM's",
            "design:\\n  colour: red|s:2: design.colour: unknown key (known here: table, clear, vhost, answer)",
            "design: D4+fast|s:1: design: unknown mechanism 'fast'",
            "design: D9|s:1: design: unknown value 'D9' (one of D0, D1, D2, D3a, D3b, D4, D4k, V)"})
    void eachFieldIsCheckedAtItsLine(String yaml, String message) {
        String text = yaml.replace("\\n", "\n");
        assertThatThrownBy(() -> Scenario.parse("s", text)).isInstanceOf(Scenario.Invalid.class).hasMessageStartingWith(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
