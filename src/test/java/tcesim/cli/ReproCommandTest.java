package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReproCommandTest {

    @Test
    void helpExitsZeroAndListsTheOptions() {
        CliRun r = CliRun.of("repro", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("Usage: tcesim repro").contains("--design").contains("--host").contains("--seeds");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void unknownFlagIsAUsageError() {
        CliRun r = CliRun.of("repro", "--bogus");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("tcesim repro: Unknown option: '--bogus'" + System.lineSeparator()
                + "Try 'tcesim repro --help' for more information." + System.lineSeparator());
        assertThat(r.stdout()).isEmpty();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--vcpus, 0, vcpus",
            "--vcpus, 9, vcpus",
            "--design, D9, --design",
            "--packets, abc, --packets",
            "--host, vax, --host",
            "--max-iotlb-entries, 0, max-iotlb-entries",
            "--ring-size, 100, ring-size",
            "--seeds, 0, --seeds",
            "--seed, x, --seed",
    })
    void badValueIsAUsageErrorNamingTheOptionWithoutAStackTrace(String option, String value, String named) {
        CliRun r = CliRun.of("repro", option, value, "--max-steps", "1000");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains(named).doesNotContain("Exception").doesNotContain("at tcesim").doesNotContain("at picocli");
        assertThat(r.stdout()).doesNotContain("VIOLATION").doesNotContain("No property broken");
    }

    @Test
    void negativePacketCountIsAUsageError() {
        CliRun r = CliRun.of("repro", "--packets", "-1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("packet").doesNotContain("Exception").doesNotContain("at tcesim");
    }

    @Test
    void theCrashExitsOneWithTheViolationAndAReplayLine() {
        CliRun r = CliRun.of("repro", "--max-iotlb-entries", "32768", "--packets", "5000", "--seed", "1");
        assertThat(r.exit()).isEqualTo(1);
        String out = r.stdout();
        assertThat(out).contains("VIOLATION: stale access").contains("History of IOVA").contains("H_STUFF_TCE");
        assertThat(out.lines().filter(l -> l.contains("replay:"))).singleElement()
                .satisfies(l -> assertThat(l).contains("--seed 1 ").contains("--max-iotlb-entries 32768").contains("--packets 5000"));
        assertThat(out).contains("trace hash");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void theCleanHostExitsZero() {
        CliRun r = CliRun.of("repro", "--host", "no_vfio_tce", "--packets", "300");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("No property broken").contains("300 RX and 300 TX packets").doesNotContain("VIOLATION");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void hostKindAndKernelEraReachTheRunAndItsReplayLine() {
        CliRun p8 = CliRun.of("repro", "--host", "powernv8", "--packets", "50");
        assertThat(p8.exit()).isZero();
        assertThat(p8.stdout()).contains("--host powernv8 ").doesNotContain("--host-kernel");
        CliRun k22 = CliRun.of("repro", "--host-kernel", "2022", "--packets", "50");
        assertThat(k22.exit()).isZero();
        assertThat(k22.stdout()).contains("--host powernv --host-kernel 2022 ");
        CliRun bad = CliRun.of("repro", "--host-kernel", "2020");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("host kernel must be 2019, 2022 or current");
        CliRun cur = CliRun.of("repro", "--host-kernel", "current", "--packets", "50");
        assertThat(cur.exit()).isZero();
        assertThat(cur.stdout()).contains("--host powernv --host-kernel current ");
    }

    @Test
    void hostAndDesignAreCaseInsensitive() {
        CliRun r = CliRun.of("repro", "--host", "NO_VFIO_TCE", "--design", "d2", "--packets", "20");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("design D2").contains("No property broken");
    }

    @Test
    void severalCleanSeedsAreCounted() {
        CliRun r = CliRun.of("repro", "--seeds", "3", "--packets", "300", "--host", "no_vfio_tce");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("0 of 3 seeds").contains("seed 1").contains("seed 2").contains("seed 3")
                .doesNotContain("first failing seed");
    }

    @Test
    void severalSeedsWithACrashExitOneAndNameTheFirstFailingSeed() {
        CliRun r = CliRun.of("repro", "--seeds", "2", "--seed", "2", "--max-iotlb-entries", "32768", "--packets", "5000");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("2 of 2 seeds").contains("first failing seed: 2").contains("--seed 2 ");
    }

    @Test
    void sameSeedSameOutput() {
        CliRun a = CliRun.of("repro", "--packets", "100", "--seed", "4");
        CliRun b = CliRun.of("repro", "--packets", "100", "--seed", "4");
        assertThat(a.exit()).isZero();
        assertThat(b.stdout()).isEqualTo(a.stdout());
    }

    /** ReproCommand.call builds its PrintStream on System.out whatever picocli's out writer is (see report). */
    @Test
    void reproPrintsToPicocliOut() {
        CliRun r = CliRun.of("repro", "--packets", "10");
        assertThat(r.out()).contains("No property broken");
        assertThat(r.systemOut()).isEmpty();
    }

    @Test
    void untilCorruptionRunsPastTheStaleReadToTheWriteIntoAReusedPage() {
        CliRun r = CliRun.of("repro", "--max-iotlb-entries", "32768", "--packets", "5000", "--seed", "1", "--until", "corruption");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("Found first on the way: stale access found at step")
                .contains("VIOLATION: corruption")
                .contains("--until corruption")
                .containsPattern("vhost write vq0 iova 0x[0-9a-f]+ len 1512");
    }

    @Test
    void aGuestThatTakesBackABufferStallsTheQueueAndTheReplayLineKeepsTheOption() {
        CliRun r = CliRun.of("repro", "--host", "no_vfio_tce", "--rx-revokes", "1", "--packets", "400", "--no-kernel-churn", "--seed", "2");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("VIOLATION: stall").contains("--rx-revokes 1");
    }

    @Test
    void aNegativeRevokeCountIsAUsageError() {
        CliRun r = CliRun.of("repro", "--rx-revokes", "-1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("rx-revokes").doesNotContain("Exception");
    }

    @Test
    void aPassthroughNicRunsBesideVirtioNetAndTheReplayLineKeepsIt() {
        CliRun r = CliRun.of("repro", "--host", "no_vfio_tce", "--packets", "200", "--passthrough", "200", "--seed", "1");
        assertThat(r.exit()).isEqualTo(0);
        assertThat(r.stdout()).contains("No property broken").contains("--passthrough 200");
    }

    @Test
    void aPassthroughNicWithADdwGuestIsAUsageError() {
        CliRun r = CliRun.of("repro", "--ddw", "--passthrough", "10");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("DDW").doesNotContain("Exception");
    }

    @Test
    void aRunStoppedAtTheStepLimitIsNoVerdict() {
        CliRun r = CliRun.of("repro", "--max-steps", "0");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.stdout()).contains("No property broken in 0 steps, but the workload did not finish: no verdict");
        CliRun seeds = CliRun.of("repro", "--seeds", "2", "--max-steps", "100");
        assertThat(seeds.exit()).isEqualTo(3);
        assertThat(seeds.stdout()).contains("seed 1      no verdict: not finished in 100 steps").contains("0 of 2 seeds break a property")
                .contains("2 of 2 seeds did not finish in 100 steps");
    }

    @Test
    void seedsAreCountedByThePropertyAskedFor() {
        // The window goes without being cleared: every seed reads through a stale translation, none writes into a page in use.
        CliRun corruption = CliRun.of("repro", "--seeds", "3", "--hazard", "window-removal", "--packets", "50", "--until", "corruption");
        assertThat(corruption.exit()).as("no seed broke the property asked for").isZero();
        assertThat(corruption.stdout()).contains("corruption in 0 of 3 seeds (0.0 %)").doesNotContain("first failing seed")
                .containsPattern("seed 1 +no corruption \\(done\\); on the way: stale access found at step \\d+");
        CliRun stale = CliRun.of("repro", "--seeds", "3", "--hazard", "window-removal", "--packets", "50", "--until", "stale_access");
        assertThat(stale.exit()).isEqualTo(1);
        assertThat(stale.stdout()).contains("stale access in 3 of 3 seeds (100.0 %)").contains("first failing seed: 1;");
        CliRun one = CliRun.of("repro", "--hazard", "window-removal", "--packets", "50", "--until", "corruption");
        assertThat(one.exit()).as("one seed, the same rule").isZero();
        assertThat(one.stdout()).contains("(no corruption found; the first violation on the way is shown)")
                .contains("No corruption found: the workload finished.");
    }

    @Test
    void seedsAreACountOrARangeAsInCampaign() {
        CliRun range = CliRun.of("repro", "--seeds", "3..4", "--host", "no_vfio_tce", "--packets", "20");
        assertThat(range.exit()).isZero();
        assertThat(range.stdout()).contains("seed 3 ").contains("seed 4 ").doesNotContain("seed 2 ").doesNotContain("seed 5 ").contains("0 of 2 seeds");
        CliRun count = CliRun.of("repro", "--seeds", "2", "--seed", "3", "--host", "no_vfio_tce", "--packets", "20");
        assertThat(count.stdout().lines().filter(l -> l.startsWith("  seed "))).isEqualTo(range.stdout().lines().filter(l -> l.startsWith("  seed ")).toList());
        CliRun campaign = CliRun.of("campaign", "--seeds", "2", "--host", "no_vfio_tce", "--packets", "20");
        assertThat(campaign.stdout()).as("a count in campaign too").contains("seeds 1..2").contains("0 of 2 seeds");
        BadInputTest.bad("--seeds 3..4 names its seeds: leave out --seed", "repro", "--seeds", "3..4", "--seed", "2");
    }
}
