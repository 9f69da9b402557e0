package tcesim.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tcesim.explore.Checkpoint;
import tcesim.explore.PartitionedSearch;
import tcesim.sim.StackConfig;

/**
 * Where {@code check --cluster} without {@code --checkpoint} leaves the coordinator's copy of the last whole level
 * when it stops without a verdict: a file in the working directory named after the check's design and the short form
 * of its configuration's id ({@code --config-id}), {@code tcesim-check-D2-c2-1a2b3c4d.ck}. A file of that name that
 * is not a checkpoint of the same check (a configuration, its properties, its reduction), or one of the same check
 * that went further, is left as it is: the next name is tried ({@code tcesim-check-D2-c2-1a2b3c4d-2.ck}), up to
 * {@link #NAMES} of them. A checkpoint of the same check that went no further is replaced: an earlier stop of the
 * search, or the one it resumed from.
 */
final class DefaultCheckpoint {
    /** How many names are tried. */
    static final int NAMES = 9;

    /** Tests only: the directory the file goes in instead of the working directory (null: the working directory). */
    static volatile Path directory;

    private DefaultCheckpoint() {}

    /**
     * What became of the copy.
     *
     * @param file the checkpoint written, or null
     * @param depth the levels it holds
     * @param passedOver the line naming the files of the names tried first that were left as they are, and why, or null
     * @param notWritten why no checkpoint was written (with file null), or null
     */
    record Saved(Path file, int depth, String passedOver, String notWritten) {}

    /** The most the copy may hold in this process: half its heap (the rest is for the check's own work and for writing the file). */
    static long maxBytes() {
        return Runtime.getRuntime().maxMemory() / 2;
    }

    /** The {@code k}-th name (from 1) for a check of {@code cfg}. */
    static String name(StackConfig cfg, int k) {
        String design = cfg.design().toString().replaceAll("[^A-Za-z0-9+._-]", "-");
        if (design.length() > 40) design = design.substring(0, 40);
        String id = ConfigId.of(cfg);
        String shortId = id.substring(0, id.indexOf('-', ConfigId.PREFIX.length()));
        return "tcesim-check-" + design + "-" + shortId + (k == 1 ? "" : "-" + k) + ".ck";
    }

    /** The {@code k}-th file, in {@link #directory} or the working directory. */
    static Path file(StackConfig cfg, int k) {
        Path dir = directory;
        return dir == null ? Path.of(name(cfg, k)) : dir.resolve(name(cfg, k));
    }

    /**
     * Writes the copy that {@code done} kept for the check of {@code cfg} (its checkpoint signature {@code signature})
     * to the first of its names that is free or a checkpoint of the same check. Never throws for a file that cannot be
     * written: the reason is in the result, for one line.
     */
    static Saved write(PartitionedSearch.Completed done, StackConfig cfg, long signature) {
        if (done.dropped() != null) {
            return new Saved(null, 0, null, done.dropped()
                    + " (half this JVM's heap: give java more with JAVA_TOOL_OPTIONS=-Xmx..., or keep it whatever it holds with --checkpoint FILE)");
        }
        if (!done.keeping()) throw new IllegalStateException("no copy kept for a checkpoint");
        List<String> passed = new ArrayList<>();
        Path to = null;
        for (int k = 1; k <= NAMES && to == null; k++) {
            Path f = file(cfg, k);
            int depth = Checkpoint.depthIfFor(f, signature);
            if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS) || depth >= 0 && depth <= done.depth()) to = f;
            else passed.add(f + (depth < 0 ? " (not a checkpoint of this check)" : " (this check's after depth " + depth + ", further than this one)"));
        }
        String note = passed.isEmpty() ? null : (passed.size() == 1 ? "Left as it is: " : "Left as they are: ") + String.join(", ", passed) + ".";
        if (to == null) return new Saved(null, 0, note, "the " + NAMES + " names tried are all taken (give --checkpoint FILE)");
        try {
            if (!done.write(to)) return new Saved(null, 0, note, "the check stopped before the workers held its first level");
        } catch (UncheckedIOException e) {
            IOException io = e.getCause();
            String why = Files2.describe(io);
            // The reason without the file it names (the temporary file beside the checkpoint, or the checkpoint itself).
            if (io instanceof FileSystemException fs && fs.getFile() != null && why.startsWith(fs.getFile() + ": ")) why = why.substring(fs.getFile().length() + 2);
            Path dir = to.toAbsolutePath().getParent();
            return new Saved(null, 0, note, "cannot write " + to.getFileName() + " in " + dir + ": " + why
                    + " (run the check from a directory it can write in, or give --checkpoint FILE)");
        }
        return new Saved(to, done.depth(), note, null);
    }
}
