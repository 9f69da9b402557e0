package tcesim.sim;

import java.util.EnumMap;
import java.util.Map;

/**
 * What a run cost, in simulated nanoseconds, by kind of work and by lane (the thread or device that spent
 * it). Lanes run in parallel, so the run's simulated duration is that of its busiest lane; each step's
 * cost is recorded too, and the steps add up to the total.
 */
public final class CostLedger {
    /** Who spends the time. */
    public enum Lane { VCPU, QEMU, VHOST, DEVICE }

    /** What the time is spent on. */
    public enum Kind {
        HCALL_REAL("hcall.realmode"), HCALL_VIRTUAL("hcall.virtmode"), EXIT_QEMU("exit.qemu"), TCE_KILL("tce.kill"),
        IOTLB_MISS("iotlb.miss"), INVALIDATE("iotlb.invalidate"), EVENTFD("eventfd"), COPY("copy.byte"),
        VHOST_PACKET("vhost.packet"), GUEST_PACKET("guest.packet");

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

    public CostLedger(CostModel model) {
        this.model = model;
        for (Kind k : KINDS) price[k.ordinal()] = model.get(k.param);
    }

    public CostModel model() { return model; }

    /** Charges {@code units} of {@code kind} (hypercalls, bytes, packets...) to {@code lane}. */
    public void charge(Lane lane, Kind kind, double units) {
        double ns = units * price[kind.ordinal()];
        byKind[kind.ordinal()] += ns;
        byLane[lane.ordinal()] += ns;
        counts[kind.ordinal()] += (long) Math.ceil(units);
        total += ns;
    }

    /** Marks the start of a step. */
    public void beginStep() { stepStart = total; }

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

    /** The run's simulated duration: its busiest lane. */
    public double elapsed() {
        double m = 0;
        for (double v : byLane) m = Math.max(m, v);
        return m;
    }
}
