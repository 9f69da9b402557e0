package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** `history`: a change to the model that loses a real bug, or invents one in an era that fixed it, fails the build. */
class HistoryCommandTest {
    @Test
    void everyRealBugIsFoundWhereItWasAndNowhereElse() {
        CliRun r = CliRun.of("history");
        assertThat(r.exit()).as(r.stdout()).isZero();
        assertThat(r.stdout()).contains("Every bug is found where the history has it and nowhere else.").doesNotContain("DIFFERS");
        int rows = 0;
        for (HistoryCommand.Bug b : HistoryCommand.BUGS) {
            assertThat(r.stdout()).contains(b.name());
            rows += b.present().size() + b.absent().size();
        }
        assertThat(r.stdout().lines().filter(l -> l.contains(" ok ") && l.contains("./tcesim check "))).hasSize(rows);
    }

    /** The README's history table says, for each bug, the eras the command finds it on and those it does not. */
    @Test
    void theReadmeTableHasTheErasOfEachBug() throws Exception {
        String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
        for (HistoryCommand.Bug b : HistoryCommand.BUGS) {
            String eras = " | " + String.join(", ", b.present()) + " | " + (b.absent().isEmpty() ? "-" : String.join(", ", b.absent())) + " |";
            assertThat(readme.lines().filter(l -> l.startsWith("| ") && l.endsWith(eras) && l.contains(b.fixed().split(" ")[0]))).as(b.name()).hasSize(1);
        }
    }

    /** Each row's command, run as a user would, gives what the row says. */
    @Test
    void eachRowsCommandReplaysItsFinding() {
        HistoryCommand.Bug kill = HistoryCommand.BUGS.get(0);
        HistoryCommand.Row present = HistoryCommand.run(kill, "2019", true);
        CliRun r = CliRun.of(present.command().substring("./tcesim ".length()).split(" "));
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stdout()).contains("stale access found. The shortest counterexample has " + present.result().choices().length + " scheduling choices");
        HistoryCommand.Row fixed = HistoryCommand.run(kill, "2022", false);
        assertThat(CliRun.of(fixed.command().substring("./tcesim ".length()).split(" ")).exit()).isZero();
    }

    /** A row whose era does not behave as the history says is reported and fails the command. */
    @Test
    void aRowThatDiffersIsReported() {
        HistoryCommand.Bug seed = HistoryCommand.BUGS.get(2);
        HistoryCommand.Row wrong = HistoryCommand.run(seed, "2019", false);
        assertThat(wrong.asHistorySays()).as("the seed's bug is present in 2019, so a row calling it fixed differs").isFalse();
    }
}
