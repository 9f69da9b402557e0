package tcesim.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * Documents a command prints on the standard output (JSON, CSV, a Markdown table) go out whole: built in memory
 * first, so that nothing of one reaches the output before the whole of it exists (a failure while it is made leaves
 * no half document behind), then written with one write; and a write that fails (a closed pipe, a full disk) is
 * reported on stderr with exit 2 instead of leaving a cut document and exit 0. Files are written whole by {@link Files2}.
 */
final class Stdout {
    private Stdout() {}

    /**
     * Prints {@code document} (with a final newline) in one write and flushes it.
     *
     * @param what what it is, for the error: "JSON", "CSV", "table"
     * @throws UncheckedIOException when the output did not take it whole
     */
    static void document(PrintWriter out, String document, String what) {
        out.print(document.endsWith("\n") ? document : document + "\n");
        out.flush();
        // picocli's writer goes through System.out, a PrintStream that keeps a failed write to itself: ask both.
        if (out.checkError() || System.out.checkError()) {
            throw new UncheckedIOException("cannot write the " + what + " to the standard output (closed, or the disk is full?): what it holds is cut short",
                    new IOException("write failed"));
        }
    }
}
