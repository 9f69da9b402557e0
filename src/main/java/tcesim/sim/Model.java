package tcesim.sim;

/**
 * A system the engine can step: the modelled stack, or a tiny hand-built model in the checker's tests.
 * Steps come from {@link Actor}s; the oracles' verdict, the end of the workload, and the model's state as words
 * ({@link #save}, which also identifies the state) and back ({@link #restore}, which also clears the verdict) are
 * all the checker needs.
 */
public interface Model extends tcesim.state.Snapshot {
    /** Collects the enabled steps, in a fixed order. */
    void enabledSteps(StepList out);

    /** The first property broken so far, or null. */
    Violation violation();

    /** The first violation of a property in {@code of}, or null (the model may keep running past the others). */
    default Violation violation(java.util.Set<Violation.Property> of) {
        Violation v = violation();
        return v != null && of.contains(v.property()) ? v : null;
    }

    /**
     * Restores a saved state as {@link #restore} does, given that the model has not changed since it was last saved
     * or restored: a model may then read only what differs from that state (the checker puts a state back after
     * saving each of its successors). By default, a plain restore.
     */
    default void restoreChanged(tcesim.state.StateReader in) { restore(in); }

    /** Whether the workload is finished (an end state). */
    boolean done();

    /** Called when no step is enabled and the workload is not done: the progress violation to report (null if none is claimed). */
    Violation stuck();

    /** A 64-bit fingerprint of everything that decides the model's futures: the hash of its {@linkplain #save saved state}. */
    default long fingerprint() {
        tcesim.state.StateWriter w = new tcesim.state.StateWriter();
        save(w);
        return w.hash();
    }

    /** The name of the actor whose enabled step may be explored alone (the checker's reduction), or null for none. */
    default String independentActor() { return null; }
}
