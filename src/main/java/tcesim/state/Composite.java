package tcesim.state;

/**
 * A snapshot made of smaller ones, saved one after another in a fixed order. {@link Parts} takes each of them as a
 * part of its own, so that putting a state back reads only the smaller snapshots whose words changed, not the whole
 * component; each of them must keep Parts' rules on its own (its words delimit themselves, and its restore does not
 * depend on having been called).
 */
public interface Composite extends Snapshot {
    /** The smaller snapshots, in the order of the words: the same objects, in the same order, on every call. */
    Snapshot[] parts();

    @Override
    default void save(StateWriter out) {
        for (Snapshot p : parts()) p.save(out);
    }

    @Override
    default void restore(StateReader in) {
        for (Snapshot p : parts()) p.restore(in);
    }
}
