package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void printsEachRateAgainstItsTarget() {
        CliRun r = CliRun.of("bench", "--repeat", "1", "--warmup", "0");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).containsPattern("checker, small configuration \\(D2, \\d+ distinct states\\): \\d+ distinct states/s \\(wall clock \\d+, \\d+% of it in the collector's pauses\\); target 1000000: [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("\n  the levels' states kept packed in 0\\.[0-9]{2} of their saved words\n");
        assertThat(r.stdout()).containsPattern("\n  depth-first, as a check goes on past a level larger than --frontier-limit: \\d+ distinct states/s \\(wall clock \\d+, \\d+% of it in the collector's pauses\\):"
                + " [0-9.]+ of target\n");
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
        assertThat(r.stdout()).containsPattern("simulation, large configuration .*: \\d+ packets/s \\(wall clock \\d+, \\d+% of it in the collector's pauses\\); 10 GbE line rate 812744 packets/s; target 2x line rate: [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("campaign, large configuration on all \\d+ cores \\(\\d+ seeds a run, wall clock\\): \\d+ packets/s; [0-9.]+ of target");
        assertThat(r.stdout()).containsPattern("\n  \\d+ packets a second of the process's CPU time \\(one core alone: \\d+\\); the process had [0-9.]+ of the \\d+ cores\n");
        // What it is doing goes to stderr, the JVM the figures come from and then one line before each measurement, so
        // stdout stays the figures alone.
        java.util.List<String> err = r.err().lines().toList();
        assertThat(err.get(0)).matches("bench: Java \\S+, collectors .+, \\d+ cores");
        assertThat(err.subList(1, err.size())).hasSize(5).allMatch(l -> l.startsWith("bench: ") && l.endsWith(" ..."));
        assertThat(r.stdout()).doesNotContain("bench: ");
    }

    /**
     * --bounds on D0 alone with a low state limit: its checks with two vCPUs end in a few thousand states but the DDW
     * guest's (about 100,000), which the limit stops, and so at three packets; the lines count them and the target is
     * not called met for a table with checks without a verdict.
     */
    @Test
    void boundsCountTheChecksAndThoseWithoutAVerdict() {
        java.io.StringWriter out = new java.io.StringWriter();
        BenchCommand.bounds(new java.io.PrintWriter(out), new java.io.PrintWriter(new java.io.StringWriter()), StackOptions.small().toConfig(),
                java.util.List.of(tcesim.sim.Design.D0), 20_000, 1);
        assertThat(out.toString()).containsPattern("two vCPUs, two packets each way: 5 checks \\(1 without a verdict at 20000 states\\), the largest \\d+ distinct"
                + " states; the slowest design, D0, [0-9.]+ s of one core over its guests; target 60 s a design: met\n");
        assertThat(out.toString()).containsPattern("three packets each way: 5 checks \\((\\d) without a verdict at 20000 states\\), the largest \\d+ distinct states;"
                + " the table [0-9.]+ s of wall clock, 1 check side by side \\(check --all --workers 1\\); target 120 s: not reached \\(checks without a verdict\\)\n");
        java.io.StringWriter all = new java.io.StringWriter();
        BenchCommand.bounds(new java.io.PrintWriter(all), new java.io.PrintWriter(new java.io.StringWriter()), StackOptions.small().toConfig(),
                java.util.List.of(tcesim.sim.Design.V), 2_000_000, 1);
        assertThat(all.toString()).contains("4 checks (each with a verdict)").doesNotContain("not reached");
    }

    @Test
    void badValuesAreUsageErrors() {
        assertThat(CliRun.of("bench", "--bounds", "--max-states", "0").exit()).isEqualTo(2);
        assertThat(CliRun.of("bench", "--bounds", "--cluster", "127.0.0.1:5701").exit()).isEqualTo(2);
        assertThat(CliRun.of("bench", "--repeat", "0").exit()).isEqualTo(2);
        assertThat(CliRun.of("bench", "--warmup", "-1").exit()).isEqualTo(2);
    }

    /** --independence: the census of commuting steps on the small configuration, by pair, with its replay line; same seed, same lines. */
    @Test
    void independenceCountsCommutingPairsByActorsAndSaysHowToRepeatIt() {
        CliRun r = CliRun.of("bench", "--independence", "--walks", "30", "--seed", "7");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).containsPattern("^independence, small configuration \\(D2, 30 random walks, seed 7\\): (\\d+) of (\\d+) pairs of steps of"
                + " different actors enabled together commute \\(\\d+%\\)\n");
        assertThat(r.stdout()).containsPattern("\n  qemu:iotlb-miss +vhost:handle +\\d+ of +\\d+\n");
        assertThat(r.stdout()).endsWith("replay: ./tcesim bench --independence --walks 30 --seed 7\n");
        // The pairs' counts add up to the totals.
        java.util.regex.Matcher total = java.util.regex.Pattern.compile("\\): (\\d+) of (\\d+) pairs").matcher(r.stdout());
        assertThat(total.find()).isTrue();
        long commuting = 0;
        long tried = 0;
        java.util.regex.Matcher row = java.util.regex.Pattern.compile("\n  \\S+ +\\S+ +(\\d+) of +(\\d+)").matcher(r.stdout());
        while (row.find()) {
            commuting += Long.parseLong(row.group(1));
            tried += Long.parseLong(row.group(2));
        }
        assertThat(commuting).isEqualTo(Long.parseLong(total.group(1)));
        assertThat(tried).isEqualTo(Long.parseLong(total.group(2))).isPositive();
        assertThat(CliRun.of("bench", "--independence", "--walks", "30", "--seed", "7").stdout()).isEqualTo(r.stdout());
        assertThat(CliRun.of("bench", "--independence", "--walks", "0").exit()).isEqualTo(2);
        assertThat(CliRun.of("bench", "--independence", "--bounds").exit()).isEqualTo(2);
    }
}
