package tcesim.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** How runs end when there is no work, when the step budget runs out, and on bad configurations. */
class ProgressTest {

    @Test
    void noPacketsEndsDoneAtOnce() {
        Runs.Run run = Runs.run(Runs.CRASH.withPackets(0, 0), 1);
        assertThat(run.result().end()).isEqualTo(Simulation.End.DONE);
        assertThat(run.result().steps()).isZero();
        assertThat(run.violation()).isNull();
        assertThat(run.stats().packetsRx + run.stats().packetsTx).isZero();
    }

    @Test
    void stepBudgetEndsWithStepLimit() {
        Runs.Run run = Runs.run(Runs.CRASH, 1, new Trace(), 10);
        assertThat(run.result().end()).isEqualTo(Simulation.End.STEP_LIMIT);
        assertThat(run.result().steps()).isEqualTo(10);
        assertThat(run.stats().steps).isEqualTo(10);
        assertThat(run.violation()).isNull();
    }

    @Test
    void zeroStepBudgetRunsNothing() {
        Runs.Run run = Runs.run(Runs.CRASH, 1, new Trace(), 0);
        assertThat(run.result().end()).isEqualTo(Simulation.End.STEP_LIMIT);
        assertThat(run.result().steps()).isZero();
    }

    @Test
    void smallRunDeliversEveryPacketBothWays() {
        Runs.Run run = Runs.run(Runs.CRASH.withPackets(40, 25), 4);
        assertThat(run.result().end()).isEqualTo(Simulation.End.DONE);
        assertThat(run.stack().workloadDone()).isTrue();
        assertThat(run.stats().packetsRx).isEqualTo(40);
        assertThat(run.stats().packetsTx).isEqualTo(25);
        assertThat(run.stack().driver().symptoms()).isEmpty();
        assertThat(run.stack().wireSymptoms()).isEmpty();
    }

    @Test
    void invalidConfigurationIsRefusedWithTheFieldNamed() {
        assertThatThrownBy(() -> new Stack(StackConfig.seed().withVcpus(0), new Trace()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vcpus");
        assertThatThrownBy(() -> new Stack(StackConfig.seed().withMaxIotlbEntries(0), new Trace()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-iotlb-entries");
        assertThatThrownBy(() -> new Stack(StackConfig.seed().withRing(3), new Trace()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ring-size");
        assertThat(StackConfig.seed().validate()).isNull();
    }
}
