package tcesim.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C during a long command. The JVM runs this hook, which asks the work to stop and waits until the
 * command has printed what it found so far ({@link #exit}), at most {@link #WAIT_MS} for a command that does
 * not stop; it then ends the JVM with the command's exit code (3, "no verdict", for an interrupted check), as
 * a hook may with {@link Runtime#halt}. A command stuck for longer ends with the JVM's own code for the signal
 * (130 for SIGINT). Removed again when the command ends by itself.
 */
final class Interrupt implements AutoCloseable {
    /** How long the hook waits for the command to print its partial result. */
    static final long WAIT_MS = 10_000;

    /** Tests only: called with each new Interrupt, e.g. to {@linkplain #request() press Ctrl-C} at some point. */
    static volatile java.util.function.Consumer<Interrupt> installed;

    private final Runnable stop;
    private final Thread hook;
    private final CountDownLatch printed = new CountDownLatch(1);
    private volatile boolean requested;
    private volatile int exitCode = -1;

    /** @param stop asks the work to stop (called from the hook thread) */
    Interrupt(Runnable stop) {
        this.stop = stop;
        hook = new Thread(() -> {
            request();
            try {
                if (printed.await(WAIT_MS, TimeUnit.MILLISECONDS) && exitCode >= 0) {
                    System.out.flush();
                    System.err.flush();
                    Runtime.getRuntime().halt(exitCode);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "tcesim-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        java.util.function.Consumer<Interrupt> t = installed;
        if (t != null) t.accept(this);
    }

    /** What Ctrl-C does before the wait: marks the command interrupted and asks its work to stop. */
    void request() {
        requested = true;
        stop.run();
    }

    /** Whether Ctrl-C was pressed. */
    boolean requested() { return requested; }

    /**
     * The command has printed (and flushed) its result: after Ctrl-C the JVM ends now, with {@code code}.
     *
     * @return {@code code}
     */
    int exit(int code) {
        exitCode = code;
        printed.countDown();
        return code;
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting (Ctrl-C): the hook is running and waits for exit(), or for this.
        }
        printed.countDown();
    }
}
