package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void printsEachRateAgainstItsTarget() {
        CliRun r = CliRun.of("bench", "--repeat", "1", "--warmup", "0");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).containsPattern("checker, small configuration \\(D2, \\d+ distinct states\\): \\d+ distinct states/s \\(wall clock \\d+\\); target 1000000: [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("\n  the levels' states kept packed in 0\\.[0-9]{2} of their saved words\n");
        assertThat(r.stdout()).containsPattern("\n  of which the model's steps: [1-9]\\d* ns a step \\(seeded runs of the same configuration\\), [1-9][0-9.]* steps per"
                + " distinct state, so at most \\d+ distinct states/s if saving, restoring, hashing and the search cost nothing: [0-9.]+ of target\n");
        assertThat(r.stdout()).containsPattern("\n  by phase \\(runs reading the clock around each\\): [1-9]\\d* ns a distinct state: step \\d+ ns \\(\\d+%\\),"
                + " save \\d+ ns \\(\\d+%\\), restore \\d+ ns \\(\\d+%\\), hash \\d+ ns \\(\\d+%\\), bookkeeping -?\\d+ ns \\(-?\\d+%\\)\n");
        // The phases and the bookkeeping are the whole of the time per distinct state (to the rounding of each figure).
        java.util.regex.Matcher phases = java.util.regex.Pattern.compile("(\\d+) ns a distinct state: step (\\d+) ns .*, save (\\d+) ns .*, restore (\\d+) ns"
                + " .*, hash (\\d+) ns .*, bookkeeping (-?\\d+) ns").matcher(r.stdout());
        assertThat(phases.find()).isTrue();
        long sum = 0;
        for (int g = 2; g <= 6; g++) sum += Long.parseLong(phases.group(g));
        assertThat(sum).isBetween(Long.parseLong(phases.group(1)) - 3, Long.parseLong(phases.group(1)) + 3);
        assertThat(Long.parseLong(phases.group(2))).isPositive();
        assertThat(r.stdout()).containsPattern("\n  [1-9][0-9.]* steps a packet at [1-9]\\d* ns a step; the target needs [0-9.]+ ns a step\n");
        assertThat(r.stdout()).containsPattern("simulation, large configuration .*: \\d+ packets/s \\(wall clock \\d+\\); 10 GbE line rate 812744 packets/s; target 2x line rate: [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("campaign, large configuration on all \\d+ cores \\(\\d+ seeds a run, wall clock\\): \\d+ packets/s; [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("\n  \\d+ packets a second of the process's CPU time \\(one core alone: \\d+\\); the process had [0-9.]+ of the \\d+ cores\n");
        // What it is doing goes to stderr, one line before each measurement, so stdout stays the figures alone.
        assertThat(r.err().lines()).hasSize(4).allMatch(l -> l.startsWith("bench: ") && l.endsWith(" ..."));
        assertThat(r.stdout()).doesNotContain("bench: ");
    }

    @Test
    void badValuesAreUsageErrors() {
        assertThat(CliRun.of("bench", "--repeat", "0").exit()).isEqualTo(2);
        assertThat(CliRun.of("bench", "--warmup", "-1").exit()).isEqualTo(2);
    }
}
