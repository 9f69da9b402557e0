package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MainTest {

    @Test
    void helpListsReproAndExitsZero() {
        CliRun r = CliRun.of("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("Usage: tcesim").contains("repro");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void noArgumentsPrintsUsageOnStderrAndExitsTwo() {
        CliRun r = CliRun.of();
        assertThat(r.exit()).as("nothing asked for: bad usage, as git does").isEqualTo(2);
        assertThat(r.err()).contains("Usage: tcesim").contains("repro");
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void versionExitsZero() {
        CliRun r = CliRun.of("--version");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("tcesim 0.1.0");
    }

    @Test
    void helpSubcommandShowsReproUsage() {
        CliRun r = CliRun.of("help", "repro");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("Usage: tcesim repro").contains("--max-iotlb-entries");
    }

    @Test
    void unknownCommandIsAUsageError() {
        CliRun r = CliRun.of("frobnicate");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("frobnicate").doesNotContain("Exception");
    }

    @Test
    void everyCommandPrintsTheVersion() {
        for (String cmd : new String[] {"repro", "check", "campaign", "compare", "bench"}) {
            CliRun r = CliRun.of(cmd, "--version");
            assertThat(r.exit()).as(cmd).isZero();
            assertThat(r.stdout().strip()).as(cmd).isEqualTo("tcesim 0.1.0");
        }
    }

    @Test
    void aBadFlagIsOneLineAndAPointerToHelpOnEveryCommand() {
        for (String cmd : new String[] {"repro", "check", "campaign", "compare", "bench"}) {
            CliRun r = CliRun.of(cmd, "--frobnicate");
            assertThat(r.exit()).as(cmd).isEqualTo(2);
            assertThat(r.err().lines()).as(cmd).containsExactly("tcesim " + cmd + ": Unknown option: '--frobnicate'",
                    "Try 'tcesim " + cmd + " --help' for more information.");
            assertThat(r.stdout()).as(cmd).isEmpty();
        }
    }
}
