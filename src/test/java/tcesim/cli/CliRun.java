package tcesim.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/**
 * One execution of the {@code tcesim} command line with everything it prints captured: picocli's out and
 * err writers, and System.out (ReproCommand and Main.run print there directly; restored afterwards).
 */
record CliRun(int exit, String out, String err, String systemOut) {

    /** Everything printed on the standard output, whichever channel the command used. */
    String stdout() {
        return out + systemOut;
    }

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream sys = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int exit;
        try {
            System.setOut(new PrintStream(sys, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            exit = cl.execute(args);
        } finally {
            System.setOut(saved);
        }
        return new CliRun(exit, out.toString(), err.toString(), sys.toString(StandardCharsets.UTF_8));
    }
}
