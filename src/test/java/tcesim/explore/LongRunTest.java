package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tcesim.sim.Violation;

/** Stopping a long check, writing its state, and going on from it; staying within a memory bound. */
class LongRunTest {
    static Checker.Options withFiles(Path checkpoint, Path resume, long maxBytes) {
        return new Checker.Options(10_000_000, 1, true, null, EnumSet.allOf(Violation.Property.class), maxBytes, checkpoint, resume);
    }

    @Test
    void aStoppedCheckResumesToTheSameAnswer(@TempDir Path dir) {
        Checker.Result whole = new Checker(() -> new TinyModels.Grid(40), Checker.Options.defaults()).run();

        Path ck = dir.resolve("grid.ck");
        AtomicInteger steps = new AtomicInteger();
        Checker[] holder = new Checker[1];
        holder[0] = new Checker(() -> {
            TinyModels.Grid g = new TinyModels.Grid(40);
            g.onStep = () -> {
                if (steps.incrementAndGet() == 300) holder[0].stop();   // as Ctrl-C would, part-way through
            };
            return g;
        }, withFiles(ck, null, Long.MAX_VALUE), 42);
        Checker.Result stopped = holder[0].run();
        assertThat(stopped.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(stopped.stopped()).isEqualTo("interrupted");
        assertThat(stopped.distinct()).isLessThan(whole.distinct());
        assertThat(ck).exists();

        Checker.Result resumed = new Checker(() -> new TinyModels.Grid(40), withFiles(null, ck, Long.MAX_VALUE), 42).run();
        assertThat(resumed.verdict()).isEqualTo(Checker.Verdict.SAFE);
        assertThat(resumed.distinct()).isEqualTo(whole.distinct());
        assertThat(resumed.generated()).isEqualTo(whole.generated());
        assertThat(resumed.terminals()).isEqualTo(whole.terminals());
    }

    @Test
    void aCheckpointOfAnotherConfigurationOrAnyOtherFileIsRefused(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("a.ck");
        Checker c = new Checker(() -> new TinyModels.Grid(5), withFiles(ck, null, Long.MAX_VALUE), 1);
        c.stop();
        c.run();
        assertThatThrownBy(() -> new Checker(() -> new TinyModels.Grid(5), withFiles(null, ck, Long.MAX_VALUE), 2).run())
                .hasMessageContaining("written for another configuration");
        Path junk = dir.resolve("junk");
        Files.writeString(junk, "hello");
        assertThatThrownBy(() -> new Checker(() -> new TinyModels.Grid(5), withFiles(null, junk, Long.MAX_VALUE), 1).run())
                .hasMessageContaining("not a tcesim checkpoint");
        byte[] bytes = Files.readAllBytes(ck);
        Path cut = dir.resolve("cut");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        assertThatThrownBy(() -> new Checker(() -> new TinyModels.Grid(5), withFiles(null, cut, Long.MAX_VALUE), 1).run())
                .hasMessageContaining("truncated");
    }

    @Test
    void aMemoryBoundStopsTheSearchWithAClearReasonInsteadOfRunningOutOfMemory() {
        Checker.Result r = new Checker(() -> new TinyModels.Grid(2000), withFiles(null, null, 4L << 20)).run();
        assertThat(r.verdict()).isEqualTo(Checker.Verdict.INCOMPLETE);
        assertThat(r.stopped()).isEqualTo("memory bound of 4 MiB reached");
    }
}
