package tcesim.explore;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Supplier;
import tcesim.sim.Actor;
import tcesim.sim.Model;
import tcesim.sim.StepList;
import tcesim.state.StateReader;
import tcesim.state.StateWriter;

/**
 * How often two steps of different actors, enabled in the same state, commute there: run in either order, both stay
 * enabled and they reach the same state (the same saved words). That is the room a sleep-set reduction would have: it
 * keeps every state but does not take the second order of a commuting pair, whose result the first order reached
 * already. It measures, it decides nothing: a reduction needs independence known before the steps run, for every
 * state, and this only samples states of seeded random walks (each step chosen uniformly among those enabled, as
 * {@code Chooser.seeded} does). Deterministic for a seed.
 */
public final class Independence {
    private Independence() {}

    /** Pairs of steps, named "actor:step" in alphabetical order, tried in both orders, and how many of them commuted. */
    public record Pair(String first, String second, long commuting, long tried) {}

    /** The pairs by name, and their totals. */
    public record Census(List<Pair> pairs, long commuting, long tried) {
        /** The share of the pairs tried that commuted (0 when none was tried). */
        public double share() { return tried == 0 ? 0 : (double) commuting / tried; }
    }

    /**
     * Samples {@code walks} random walks of at most {@code maxSteps} steps from the model's first state (ended early by a
     * violation or when nothing is enabled); at each state with steps of two or more actors enabled, one pair of steps
     * of different actors, chosen uniformly, is run both ways.
     */
    public static Census sample(Supplier<? extends Model> models, long seed, int walks, int maxSteps) {
        Model m = models.get();
        StateWriter first = new StateWriter();
        m.save(first);
        long[] start = first.toArray();
        SplittableRandom random = new SplittableRandom(seed);
        StepList enabled = new StepList();
        StepList after = new StepList();
        TreeMap<String, long[]> tally = new TreeMap<>();
        List<int[]> pairs = new ArrayList<>();
        for (int walk = 0; walk < walks; walk++) {
            m.restore(new StateReader(start));
            for (int k = 0; k < maxSteps; k++) {
                m.enabledSteps(enabled);
                if (enabled.size() == 0 || m.violation() != null) break;
                pairs.clear();
                for (int i = 0; i < enabled.size(); i++) {
                    for (int j = i + 1; j < enabled.size(); j++) if (enabled.actor(i) != enabled.actor(j)) pairs.add(new int[] {i, j});
                }
                if (!pairs.isEmpty()) {
                    int[] p = pairs.get(random.nextInt(pairs.size()));
                    long[] here = save(m);
                    Actor a = enabled.actor(p[0]);
                    Actor b = enabled.actor(p[1]);
                    int ka = enabled.kind(p[0]);
                    int kb = enabled.kind(p[1]);
                    String na = a.name() + ":" + a.stepName(ka);
                    String nb = b.name() + ":" + b.stepName(kb);
                    long[] ab = both(m, here, a, ka, b, kb, after);
                    long[] ba = both(m, here, b, kb, a, ka, after);
                    long[] t = tally.computeIfAbsent(na.compareTo(nb) <= 0 ? na + "\n" + nb : nb + "\n" + na, x -> new long[2]);
                    t[1]++;
                    if (ab != null && ba != null && java.util.Arrays.equals(ab, ba)) t[0]++;
                    m.restore(new StateReader(here));
                    m.enabledSteps(enabled);
                }
                int i = random.nextInt(enabled.size());
                enabled.actor(i).step(enabled.kind(i));
            }
        }
        List<Pair> out = new ArrayList<>();
        long commuting = 0;
        long tried = 0;
        for (var e : tally.entrySet()) {
            String[] names = e.getKey().split("\n");
            out.add(new Pair(names[0], names[1], e.getValue()[0], e.getValue()[1]));
            commuting += e.getValue()[0];
            tried += e.getValue()[1];
        }
        return new Census(List.copyOf(out), commuting, tried);
    }

    /** The state after {@code a} then {@code b} from {@code here}, or null when {@code b} is not enabled once {@code a} ran. */
    private static long[] both(Model m, long[] here, Actor a, int ka, Actor b, int kb, StepList after) {
        m.restore(new StateReader(here));
        a.step(ka);
        m.enabledSteps(after);
        for (int i = 0; i < after.size(); i++) {
            if (after.actor(i) == b && after.kind(i) == kb) {
                b.step(kb);
                return save(m);
            }
        }
        return null;
    }

    private static long[] save(Model m) {
        StateWriter w = new StateWriter();
        m.save(w);
        return w.toArray();
    }
}
