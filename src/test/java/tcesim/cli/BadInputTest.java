package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Bad input of every kind: a one-line message naming the flag (and the file), exit 2, never a stack trace. */
class BadInputTest {
    /** Exit 2, no stack trace anywhere, and the message on stderr. */
    static CliRun bad(String message, String... args) {
        CliRun r = CliRun.of(args);
        assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(2);
        noTrace(r);
        assertThat(r.err()).as(String.join(" ", args)).contains(message);
        return r;
    }

    static void noTrace(CliRun r) {
        assertThat(r.err() + r.stdout()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    /** Bad content of a file, or a value found bad while running: the message alone, without the usage text. */
    static CliRun badContent(String message, String... args) {
        CliRun r = bad(message, args);
        assertThat(r.err()).doesNotContain("Usage:");
        assertThat(r.err().strip().lines()).as("one line").hasSize(1);
        return r;
    }

    @Test
    void negativeChoicesAreRefusedUpFront() {
        CliRun r = bad("--choices: choice 2 is -2", "repro", "--choices", "0,-2");
        assertThat(r.err()).contains("Try 'tcesim repro --help'").doesNotContain("Usage:");
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void aChoiceOutOfRangeNamesTheChoiceAndTheStep() {
        badContent("--choices: choice 1 of 2 is 999999, but step 1 has only 3 enabled steps (0..2)", "repro", "--choices", "999999,2");
    }

    @Test
    void aSeedRangePastTheLastSeedIsRefused() {
        CliRun r = bad("--seed 9223372036854775807 --seeds 3: the last seed would be past", "repro", "--seed", "9223372036854775807", "--seeds", "3");
        assertThat(r.stdout()).doesNotContain("seeds break");
    }

    @Test
    void theLastSeedRunsWithSeeds() {
        CliRun r = CliRun.of("repro", "--seed", "9223372036854775806", "--seeds", "2", "--host", "no_vfio_tce", "--packets", "20");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("seed 9223372036854775807").contains("0 of 2 seeds break a property");
    }

    @Test
    void anHtmlDirectoryThatCannotBeWrittenIsRefusedBeforeTheRun(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        for (String cmd : new String[] {"repro", "compare"}) {
            CliRun r = badContent("--html " + file + ": exists and is not a directory", cmd, "--html", file.toString(), "--packets", "10");
            assertThat(r.stdout()).as("nothing ran").doesNotContain("No property broken").doesNotContain("cost runs");
            r = badContent("--html " + file.resolve("sub") + ": cannot write there", cmd, "--html", file.resolve("sub").toString(), "--packets", "10");
            assertThat(r.stdout()).doesNotContain("No property broken").doesNotContain("cost runs");
        }
        Files.createDirectories(dir.resolve("out/repro.html"));
        badContent("repro.html is a directory", "repro", "--html", dir.resolve("out").toString(), "--packets", "10");
    }

    @Test
    void procIsNotAnOutputDirectory() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")));
        badContent("--html /proc/x: cannot write there", "repro", "--html", "/proc/x", "--packets", "10");
        badContent("--html /proc/x: cannot write there", "compare", "--html", "/proc/x", "--packets", "10");
    }

    @Test
    void aCostsFileThatIsADirectoryBinaryOrMalformedIsNamedWithItsLine(@TempDir Path dir) throws Exception {
        badContent("--costs " + dir + ": is a directory", "compare", "--costs", dir.toString());
        Path missing = dir.resolve("none.properties");
        badContent("--costs " + missing + ": no such file", "compare", "--costs", missing.toString());
        Path bin = Files.write(dir.resolve("bin"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, (byte) 0xc3, 0x28});
        badContent("--costs " + bin + ": not a text (UTF-8) file", "compare", "--costs", bin.toString());
        Path esc = Files.writeString(dir.resolve("esc.properties"), "# costs\nexit.qemu = 1\nx=\\u12\n");
        badContent("--costs " + esc + ":3: Malformed \\uxxxx", "compare", "--costs", esc.toString());
        Path nan = Files.writeString(dir.resolve("nan.properties"), "# costs\n\nexit.qemu = lots\n");
        badContent("--costs " + nan + ":3: cost parameter 'exit.qemu': 'lots' is not a number", "compare", "--costs", nan.toString());
    }

    @Test
    void sizesTooLargeToShiftAreReportedAsTyped() {
        bad("--ram-mib must be 16 MiB to 64 GiB, got 9223372036854775807", "repro", "--ram-mib", "9223372036854775807");
        bad("--window-kib must be 64 KiB to 1 TiB, got -1", "repro", "--window-kib", "-1");
    }

    /** A command that fails with whatever it is given, to test Main's handler. */
    @CommandLine.Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        final Throwable e;

        Boom(Throwable e) { this.e = e; }

        @Override
        public Integer call() throws Exception {
            if (e instanceof Error err) throw err;
            throw (Exception) e;
        }
    }

    static CliRun runBoom(Throwable e) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Boom(e)).setExecutionStrategy(Main::execute).setExecutionExceptionHandler(Main::failed);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliRun(cl.execute(), out.toString(), err.toString(), "");
    }

    @Test
    void anyBadInputACommandMissesIsOneLineAndExitTwo() {
        for (Exception e : new Exception[] {new java.nio.file.NoSuchFileException("/x/y"), new java.io.UncheckedIOException("cannot write z", new IOException()),
                new IllegalArgumentException("value out of range"), new IOException("disk full")}) {
            CliRun r = runBoom(e);
            assertThat(r.exit()).as(e.toString()).isEqualTo(2);
            noTrace(r);
            assertThat(r.err()).startsWith("boom: ").hasLineCount(1);
        }
        assertThat(runBoom(new java.nio.file.NoSuchFileException("/x/y")).err()).isEqualTo("boom: /x/y: no such file or directory" + System.lineSeparator());
    }

    @Test
    void aBugIsNotMistakenForAVerdict() {
        CliRun r = runBoom(new IllegalStateException("invariant broken"));
        assertThat(r.exit()).isEqualTo(Main.INTERNAL_ERROR);
        assertThat(r.err()).contains("boom: internal error").contains("invariant broken").contains("\tat ");
    }

    @Test
    void runningOutOfMemoryIsNoVerdictInOneLine() {
        for (Throwable t : new Throwable[] {new OutOfMemoryError("Java heap space"),
                new IllegalStateException("a worker failed", new OutOfMemoryError("Java heap space"))}) {
            CliRun r = runBoom(t);
            assertThat(r.exit()).as(t.toString()).isEqualTo(Main.NO_VERDICT);
            noTrace(r);
            assertThat(r.err()).startsWith("boom: out of memory (the JVM's heap is at most ").contains("no verdict").hasLineCount(1);
        }
    }

    @Test
    void aMemoryBoundAboveTheHeapIsRefused() {
        long heapMib = Runtime.getRuntime().maxMemory() >> 20;
        CliRun r = badContent("--max-memory " + (heapMib + 1) + "m: more than this JVM's heap, at most " + heapMib + " MiB", "check", "--max-memory", (heapMib + 1) + "m");
        assertThat(r.stdout()).isEmpty();
    }
}
