package tcesim.sim;

/** Shared configurations and a one-line runner for the stack simulation tests. */
final class Runs {
    static final long MAX_STEPS = 5_000_000;

    /** The seed's configuration with vhost's IOTLB large enough that a stale entry survives: the crash. */
    static final StackConfig CRASH = StackConfig.seed().withMaxIotlbEntries(32768).withPackets(5000, 5000);

    private Runs() {}

    /** A finished run together with the stack it ran on (for stats and trace). */
    record Run(Stack stack, Simulation.Result result) {
        Violation violation() { return result.violation(); }
        Stats stats() { return stack.stats(); }
    }

    static Run run(StackConfig cfg, long seed) {
        return run(cfg, seed, new Trace(), MAX_STEPS);
    }

    static Run run(StackConfig cfg, long seed, Trace trace, long maxSteps) {
        Stack st = new Stack(cfg, trace);
        return new Run(st, Simulation.run(st, Chooser.seeded(seed), maxSteps));
    }

    /** The same configuration with the kernel-churn switch changed. */
    static StackConfig withKernelChurn(StackConfig c, boolean churn) {
        return c.toBuilder().kernelChurn(churn).build();
    }
}
