package tcesim.cli;

/**
 * Ctrl-C during a long command: the JVM runs this hook, which asks the work to stop, waits a little for the
 * command to print what it found so far, and then lets the JVM exit. Removed again when the command ends
 * by itself.
 */
final class Interrupt implements AutoCloseable {
    private final Thread hook;

    /** @param stop asks the work to stop (called from the hook thread) */
    Interrupt(Runnable stop) {
        Thread main = Thread.currentThread();
        hook = new Thread(() -> {
            stop.run();
            try {
                main.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "tcesim-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting (Ctrl-C): the hook is running and waits for us.
        }
    }
}
