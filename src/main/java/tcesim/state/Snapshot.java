package tcesim.state;

/**
 * A component whose state can be written to a {@link StateWriter} and restored from it.
 *
 * <p>{@link #save} writes everything that decides what the component does next and what the oracles judge,
 * canonically; counters kept only for reports, the contents of packet buffers and the trace are left out.
 * {@link #restore} reads the same words back into a component built with the same configuration, whatever
 * state it was in, so that it then behaves exactly as the saved one would.
 */
public interface Snapshot {
    void save(StateWriter out);

    void restore(StateReader in);
}
