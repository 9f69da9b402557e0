package tcesim.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.api.Test;
import tcesim.sim.Design;
import tcesim.sim.Model;
import tcesim.sim.Stack;
import tcesim.sim.StackConfig;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/** The search cut into shards (in this process) gives the local checker's results, whatever the number of shards. */
class PartitionedSearchTest {
    static final Set<Violation.Property> ALL = EnumSet.allOf(Violation.Property.class);

    static PartitionedSearch.Outcome sharded(Supplier<? extends Model> m, int shards, int threads, long maxStates) throws Exception {
        try (PartitionedSearch.InProcess s = new PartitionedSearch.InProcess(m, ALL, true, shards, threads)) {
            return PartitionedSearch.search(m, ALL, maxStates, s, () -> false, null);
        }
    }

    static void assertSame(Checker.Result local, Checker.Result r, String what) {
        assertThat(r.verdict()).as(what).isEqualTo(local.verdict());
        assertThat(r.distinct()).as(what + ": distinct").isEqualTo(local.distinct());
        assertThat(r.depth()).as(what + ": depth").isEqualTo(local.depth());
        assertThat(r.choices()).as(what + ": counterexample").isEqualTo(local.choices());
        assertThat(r.violation()).as(what + ": violation").isEqualTo(local.violation());
        assertThat(r.stopped()).as(what + ": stopped").isEqualTo(local.stopped());
        if (local.verdict() == Checker.Verdict.SAFE) {
            assertThat(r.generated()).as(what + ": generated").isEqualTo(local.generated());
            assertThat(r.terminals()).as(what + ": end states").isEqualTo(local.terminals());
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("tcesim.testutil.NamedDesigns#all")
    void everyDesignsVerdictAndCounterexampleAreTheLocalOnes(Design d) throws Exception {
        StackConfig c = StackCheckTest.small(d, StackCheckTest.LINUX);
        Supplier<Model> m = () -> new Stack(c, Trace.off());
        Checker.Result local = new Checker(m, new Checker.Options(1_000_000, 1, true, null)).run();
        for (int shards = 1; shards <= 3; shards++) {
            PartitionedSearch.Outcome o = sharded(m, shards, shards == 2 ? 2 : 1, 1_000_000);
            assertSame(local, o.result(), d + " on " + shards + " shards");
            assertThat(java.util.Arrays.stream(o.perShard()).sum()).isLessThanOrEqualTo(local.distinct());
        }
    }

    @Test
    void theStateLimitStopsWhereTheLocalSearchStops() throws Exception {
        for (Design d : new Design[] {Design.D0, Design.D2}) {
            StackConfig c = StackCheckTest.small(d, StackCheckTest.LINUX);
            Supplier<Model> m = () -> new Stack(c, Trace.off());
            Checker.Result full = new Checker(m, new Checker.Options(1_000_000, 1, true, null)).run();
            for (long limit : new long[] {1, 2, 37, full.distinct() - 1, full.distinct()}) {
                Checker.Result local = new Checker(m, new Checker.Options(limit, 1, true, null)).run();
                assertSame(local, sharded(m, 3, 1, limit).result(), d + " limited to " + limit);
            }
        }
    }

    @Test
    void theHandBuiltModelsToo() throws Exception {
        for (Supplier<Model> m : java.util.List.<Supplier<Model>>of(TinyModels.LostUpdate::new, () -> new TinyModels.Grid(4))) {
            Checker.Result local = new Checker(m, new Checker.Options(1_000_000, 1, true, null)).run();
            for (int shards = 1; shards <= 4; shards++) assertSame(local, sharded(m, shards, 1, 1_000_000).result(), shards + " shards");
        }
    }
}
