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
        return run(new StringWriter(), new StringWriter(), args);
    }

    /**
     * As {@link #of}, with Ctrl-C pressed (the hook's {@link Interrupt#request} part; the JVM does not exit) once
     * what the command printed so far, stdout and stderr, satisfies {@code when}.
     */
    static CliRun ctrlC(java.util.function.BiPredicate<String, String> when, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        Interrupt.installed = i -> {
            Thread t = new Thread(() -> {
                while (!when.test(out.toString(), err.toString())) {
                    if (ended.get()) return;
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                i.request();
            }, "test-ctrl-c");
            t.setDaemon(true);
            t.start();
        };
        try {
            return run(out, err, args);
        } finally {
            ended.set(true);
            Interrupt.installed = null;
        }
    }

    private static CliRun run(StringWriter out, StringWriter err, String... args) {
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
