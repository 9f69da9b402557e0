package tcesim.sim;

import java.util.EnumMap;
import java.util.Map;

/**
 * What a run cost, in simulated nanoseconds, by kind of work and by lane (the thread or device that spent
 * it), and when each thread's work happened.
 *
 * <p>Each actor (a vCPU, the vhost worker, QEMU's main loop, the network, a device) has a clock. A step starts at
 * its actor's clock, or later when it consumes something another actor produced later ({@link #after}: a
 * descriptor the guest posted, a packet on the wire, the UPDATE that answers a MISS, the BQL, an eventfd or its
 * acknowledgement), and every charge of the step advances that clock. So a thread that waits, a vCPU in design
 * D3b held until QEMU acknowledges, vhost stalled on a MISS, is charged the wait as idle time on its clock, and
 * the run's simulated duration is its latest clock: the critical path of what happened. Each step's cost is
 * recorded too, and the steps add up to the total busy time.
 */
public final class CostLedger {
    /** Who spends the time. */
    public enum Lane { VCPU, QEMU, VHOST, DEVICE, WIRE }

    /** What the time is spent on. */
    public enum Kind {
        HCALL_REAL("hcall.realmode"), HCALL_VIRTUAL("hcall.virtmode"), EXIT_QEMU("exit.qemu"), TCE_KILL("tce.kill"),
        IOTLB_MISS("iotlb.miss"), IOTLB_MISS_QUEUED("iotlb.miss.queued"), INVALIDATE("iotlb.invalidate"), EVENTFD("eventfd"), COPY("copy.byte"),
        VHOST_PACKET("vhost.packet"), GUEST_PACKET("guest.packet"), WIRE("wire.byte"), BLK_REQUEST("qemu.blk.request"), KICK("guest.kick"),
        INTERRUPT("guest.interrupt");

        final String param;

        Kind(String param) { this.param = param; }

        public String param() { return param; }
    }

    private static final Kind[] KINDS = Kind.values();
    private static final Lane[] LANES = Lane.values();

    private final CostModel model;
    /** The model's price of each kind, looked up once. */
    private final double[] price = new double[KINDS.length];
    private final double[] byKind = new double[KINDS.length];
    private final double[] byLane = new double[LANES.length];
    private final long[] counts = new long[KINDS.length];
    private double total;
    private double stepStart;
    private double stepSum;
    private long steps;
    /** Per actor: its clock (when its last step ended) and the time it spent waiting for others. */
    private double[] clock = new double[0];
    private double[] idle = new double[0];
    /** The actor whose step is being charged, or -1 (boot, or work outside a step). */
    private int current = -1;

    public CostLedger(CostModel model) {
        this.model = model;
        for (Kind k : KINDS) price[k.ordinal()] = model.get(k.param);
    }

    public CostModel model() { return model; }

    /** Charges {@code units} of {@code kind} (hypercalls, bytes, packets...) to {@code lane}. */
    public void charge(Lane lane, Kind kind, double units) {
        double ns = units * price[kind.ordinal()];
        if (current >= 0) clock[current] += ns;
        byKind[kind.ordinal()] += ns;
        byLane[lane.ordinal()] += ns;
        counts[kind.ordinal()] += (long) Math.ceil(units);
        total += ns;
    }

    /** Marks the start of a step of no particular actor. */
    public void beginStep() {
        current = -1;
        stepStart = total;
    }

    /** Marks the start of a step of actor {@code actor} (a small index, the model's actor order): its charges advance its clock. */
    public void beginStep(int actor) {
        if (actor >= clock.length) {
            clock = java.util.Arrays.copyOf(clock, actor + 1);
            idle = java.util.Arrays.copyOf(idle, actor + 1);
        }
        current = actor;
        stepStart = total;
    }

    /**
     * The current step consumes something produced at simulated time {@code t}: it cannot start before. Called
     * before the step's charges; time until {@code t} is the actor's idle time. Returns whether the actor had to wait
     * (it was idle when the work arrived).
     */
    public boolean after(double t) {
        if (current < 0 || t <= clock[current]) return false;
        idle[current] += t - clock[current];
        clock[current] = t;
        return true;
    }

    /** The current actor's clock: when what its step has done so far is done (0 outside a step). */
    public double now() { return current < 0 ? 0 : clock[current]; }

    /** Actor {@code actor}'s clock (0 for one that never ran). */
    public double clock(int actor) { return actor < clock.length ? clock[actor] : 0; }

    /** The time actor {@code actor} spent waiting for work others produced. */
    public double idle(int actor) { return actor < idle.length ? idle[actor] : 0; }

    /** Ends a step: its cost is added to the running sum of step costs and returned. */
    public double endStep() {
        double c = total - stepStart;
        stepSum += c;
        steps++;
        return c;
    }

    public double total() { return total; }
    public double sumOfSteps() { return stepSum; }
    public long steps() { return steps; }
    public double of(Kind k) { return byKind[k.ordinal()]; }
    public double of(Lane l) { return byLane[l.ordinal()]; }
    public long count(Kind k) { return counts[k.ordinal()]; }

    public Map<Lane, Double> lanes() {
        EnumMap<Lane, Double> m = new EnumMap<>(Lane.class);
        for (Lane l : LANES) m.put(l, byLane[l.ordinal()]);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The run's simulated duration: when the last actor finished (its critical path, waits included). */
    public double elapsed() {
        double m = 0;
        for (double v : clock) m = Math.max(m, v);
        return m;
    }
}
