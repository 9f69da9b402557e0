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
        subcommands = {ReproCommand.class, CheckCommand.class, CampaignCommand.class, CompareCommand.class, DesignsCommand.class, BenchCommand.class, HistoryCommand.class,
                WorkerCommand.class, CommandLine.HelpCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
    /** The tool's version; it also names the cluster that workers of this version form (--cluster). */
    public static final String VERSION = "0.1.0";

    /** Exit code of an internal error (a bug in tcesim, not in the modelled stack): sysexits' EX_SOFTWARE. */
    static final int INTERNAL_ERROR = 70;

    /** Set (to anything) to see the stack trace of a bad-input error too. */
    static final String TRACE_ENV = "TCESIM_TRACE";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** {@code tcesim} alone: the usage, on stderr, and exit 2, as git does; nothing was asked for. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    /** Exit code of a run that gave no verdict (a limit, an interruption, the heap exhausted). */
    static final int NO_VERDICT = 3;

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).setExecutionStrategy(Main::execute)
                .setExecutionExceptionHandler(Main::failed).setParameterExceptionHandler(Main::badUsage);
        // --version on every command, with the version of the tool.
        for (CommandLine sub : cl.getSubcommands().values()) sub.getCommandSpec().version(cl.getCommandSpec().version());
        return cl;
    }

    /**
     * A bad flag or value: one line naming it, "tcesim CMD: message", and a pointer to --help (not the whole usage),
     * exit 2.
     */
    static int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        cl.getOut().flush();
        String cmd = cl.getCommandSpec().qualifiedName();
        if (e.getMessage() != null) err.println(cmd + ": " + e.getMessage().replace('\n', ' '));
        err.println("Try '" + cmd + " --help' for more information.");
        err.flush();
        return 2;
    }

    /**
     * Runs the command picocli parsed; running out of heap is no verdict (exit 3) with one line saying so, not a
     * property broken nor a bug, whether it happens on the command's thread or on one of its workers.
     */
    static int execute(CommandLine.ParseResult parsed) {
        try {
            return new CommandLine.RunLast().execute(parsed);
        } catch (OutOfMemoryError e) {
            CommandLine cl = parsed.asCommandLineList().get(parsed.asCommandLineList().size() - 1);
            return outOfMemory(cl);
        }
    }

    private static int outOfMemory(CommandLine cl) {
        cl.getOut().flush();
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandSpec().qualifiedName() + ": out of memory (the JVM's heap is at most " + (Runtime.getRuntime().maxMemory() >> 20)
                + " MiB): no verdict. Give java a larger heap (JAVA_TOOL_OPTIONS=-Xmx8g) or run a smaller configuration"
                + (cl.getCommandSpec().name().equals("check") && !cl.getParseResult().hasMatchedOption("--cluster") ? " or a lower --max-memory" : ""));
        err.flush();
        return NO_VERDICT;
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
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof OutOfMemoryError) return outOfMemory(cl);
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
