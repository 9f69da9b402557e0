package tcesim.cli;

import java.nio.file.Path;
import java.util.function.Supplier;

/** For tests of other packages: runs commands with the default checkpoint of {@code check --cluster} going to a directory of the test's. */
public final class DefaultCheckpointDirectory {
    private DefaultCheckpointDirectory() {}

    /** Runs {@code command} with the default checkpoint going to {@code dir} instead of the working directory. */
    public static <T> T in(Path dir, Supplier<T> command) {
        DefaultCheckpoint.directory = dir;
        try {
            return command.get();
        } finally {
            DefaultCheckpoint.directory = null;
        }
    }
}
