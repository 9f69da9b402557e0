package tcesim.sim;

import java.util.Arrays;

/** The enabled steps at one point of a run: (actor, kind) pairs in a stable order, without an object per step. */
public final class StepList {
    /**
     * The actors, as plain objects: storing into an interface-typed array checks each element's class against the
     * interface, a slow check when several classes take turns in the same array.
     */
    private Object[] actors = new Object[16];
    private int[] kinds = new int[16];
    private int size;

    public void add(Actor a, int kind) {
        if (size == actors.length) {
            actors = Arrays.copyOf(actors, size * 2);
            kinds = Arrays.copyOf(kinds, size * 2);
        }
        actors[size] = a;
        kinds[size++] = kind;
    }

    public int size() { return size; }
    public Actor actor(int i) { return (Actor) actors[i]; }
    public int kind(int i) { return kinds[i]; }
    public void clear() { size = 0; }

    public String describe(int i) {
        return actor(i).name() + ":" + actor(i).stepName(kinds[i]);
    }
}
