package tcesim.sim;

/**
 * One thread of the modelled system (a vCPU, the vhost worker, QEMU's main loop, the network, a
 * passthrough device's DMA engine). Each step is atomic: it runs at the locking granularity of the real
 * code (a hypercall, one descriptor processed under its virtqueue mutex, one message handled), so the
 * interleavings of steps are the interleavings that matter.
 */
public interface Actor {
    String name();

    /** Adds this actor's enabled steps to {@code out}, each a small integer kind this actor understands. */
    void enabledSteps(StepList out);

    /** Runs one enabled step. */
    void step(int kind);

    /** A short name of a step kind, for traces. */
    String stepName(int kind);
}
