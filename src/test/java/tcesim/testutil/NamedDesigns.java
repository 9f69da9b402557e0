package tcesim.testutil;

import java.util.Arrays;
import java.util.stream.Stream;
import tcesim.sim.Design;

/** The named designs as a parameter source ({@code @MethodSource("tcesim.testutil.NamedDesigns#all")}), and subsets by name. */
public final class NamedDesigns {
    private NamedDesigns() {}

    public static Stream<Design> all() { return Arrays.stream(Design.values()); }

    public static Stream<Design> vhostOnes() { return all().filter(d -> !d.passthrough()); }
}
