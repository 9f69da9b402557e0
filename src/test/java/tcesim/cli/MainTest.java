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
    void noArgumentsPrintsUsageAndExitsZero() {
        CliRun r = CliRun.of();
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("Usage: tcesim").contains("repro");
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
}
