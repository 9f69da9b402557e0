package tcesim.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tcesim} command line. */
@Command(name = "tcesim", mixinStandardHelpOptions = true, version = "tcesim " + Main.VERSION,
        description = {"An executable model of the sPAPR TCE / KVM / QEMU / vhost IOTLB stack:",
                "reproduces the stale vhost IOTLB crash and judges invalidation designs."},
        subcommands = {ReproCommand.class, CheckCommand.class, CampaignCommand.class, CompareCommand.class, BenchCommand.class, WorkerCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** The tool's version; it also names the cluster that workers of this version form (--cluster). */
    public static final String VERSION = "0.1.0";

    /** Exit code of an internal error (a bug in tcesim, not in the modelled stack): sysexits' EX_SOFTWARE. */
    static final int INTERNAL_ERROR = 70;

    /** Set (to anything) to see the stack trace of a bad-input error too. */
    static final String TRACE_ENV = "TCESIM_TRACE";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).setExecutionExceptionHandler(Main::failed);
    }

    /**
     * What a command threw: bad input (a file that cannot be read or written, a value out of range found while
     * running) is one line, "tcesim CMD: message", and exit 2; anything else is a bug in tcesim, printed with its
     * stack trace and exit 70, so that it is not mistaken for a verdict.
     */
    static int failed(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        cl.getOut().flush();
        String cmd = cl.getCommandSpec().qualifiedName();
        Throwable cause = e instanceof CommandLine.ExecutionException && e.getCause() != null ? e.getCause() : e;
        boolean badInput = cause instanceof IOException || cause instanceof UncheckedIOException || cause instanceof IllegalArgumentException
                || e instanceof CommandLine.ExecutionException && e.getCause() == null;
        if (badInput) {
            String msg = cause instanceof IOException io ? Files2.describe(io)
                    : cause instanceof UncheckedIOException u && cause.getMessage() == null ? Files2.describe(u.getCause()) : cause.getMessage();
            err.println(cmd + ": " + (msg == null ? cause.getClass().getSimpleName() : msg.replace('\n', ' ')));
            if (System.getenv(TRACE_ENV) != null) cause.printStackTrace(err);
            err.flush();
            return 2;
        }
        err.println(cmd + ": internal error (a bug in tcesim, please report it with the command line): " + cause);
        cause.printStackTrace(err);
        err.flush();
        return INTERNAL_ERROR;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
