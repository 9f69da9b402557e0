package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void printsEachRateAgainstItsTarget() {
        CliRun r = CliRun.of("bench", "--repeat", "1", "--warmup", "0");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).containsPattern("checker, small configuration \\(D2, \\d+ distinct states\\): \\d+ distinct states/s \\(wall clock \\d+\\); target 1000000: [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("simulation, large configuration .*: \\d+ packets/s \\(wall clock \\d+\\); 10 GbE line rate 812744 packets/s; target 10x line rate: [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("campaign, large configuration on all \\d+ cores \\(\\d+ seeds a run, wall clock\\): \\d+ packets/s; [0-9.]+ of target");
    }

    @Test
    void badValuesAreUsageErrors() {
        assertThat(CliRun.of("bench", "--repeat", "0").exit()).isEqualTo(2);
        assertThat(CliRun.of("bench", "--warmup", "-1").exit()).isEqualTo(2);
    }
}
