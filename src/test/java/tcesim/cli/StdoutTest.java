package tcesim.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * JSON, CSV and Markdown on the standard output are documents: each reaches the output in one write, once it
 * exists whole, and an output that does not take it (a closed pipe, a full disk) is an error (exit 2) rather than a
 * cut document and exit 0.
 */
class StdoutTest {
    /** The standard output as a command sees it: every write it receives, or each one failing as on a full disk. */
    static final class Output extends Writer {
        final List<String> writes = new ArrayList<>();
        final boolean full;

        Output(boolean full) { this.full = full; }

        @Override
        public void write(char[] buf, int off, int len) throws IOException {
            if (full) throw new IOException("No space left on device");
            writes.add(new String(buf, off, len));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    record Run(int exit, Output out, String err) {}

    static Run run(boolean full, String... args) {
        Output out = new Output(full);
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out, err.toString());
    }

    static final String[][] DOCUMENTS = {
            {"campaign", "--host", "no_vfio_tce", "--packets", "50", "--seeds", "1..2", "--json"},
            {"compare", "--designs", "D0", "--packets", "50", "--json"},
            {"compare", "--designs", "D0", "--packets", "50", "--csv"},
            {"check", "--design", "D0", "--json"},
            {"check", "--hazards", "--host", "no_kvm_tce", "--max-states", "500", "--json"},
            {"check", "--hazards", "--host", "no_kvm_tce", "--max-states", "500", "--markdown"},
    };

    @Test
    void aDocumentReachesTheOutputInOneWrite() throws Exception {
        for (String[] args : DOCUMENTS) {
            Run r = run(false, args);
            assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.err()).isIn(0, 1, 3);
            assertThat(r.out().writes).as(String.join(" ", args)).hasSize(1);
            String doc = r.out().writes.get(0);
            assertThat(doc).endsWith("\n");
            if (args[args.length - 1].equals("--json")) assertThat(new ObjectMapper().readTree(doc).isObject()).isTrue();
        }
    }

    /** As the real command line runs: picocli's writer over System.out, a PrintStream that keeps its errors to itself. */
    @Test
    void aFullDiskBehindSystemOutIsAnErrorToo() {
        java.io.PrintStream saved = System.out;
        java.io.OutputStream full = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }
        };
        StringWriter err = new StringWriter();
        int exit;
        try {
            System.setOut(new java.io.PrintStream(full, false, java.nio.charset.StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true));
            cl.setErr(new PrintWriter(err, true));
            exit = cl.execute("campaign", "--host", "no_vfio_tce", "--packets", "50", "--seeds", "1..2", "--json");
        } finally {
            System.setOut(saved);
        }
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).startsWith("tcesim campaign: cannot write the JSON to the standard output");
    }

    @Test
    void anOutputThatDoesNotTakeTheDocumentIsAnError() {
        for (String[] args : DOCUMENTS) {
            Run r = run(true, args);
            String what = args[args.length - 1].substring(2).toUpperCase(java.util.Locale.ROOT);
            assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", args))
                    .startsWith("tcesim " + args[0] + ": cannot write the " + (what.equals("MARKDOWN") ? "table" : what) + " to the standard output")
                    .doesNotContain("Exception").hasLineCount(1);
        }
    }
}
