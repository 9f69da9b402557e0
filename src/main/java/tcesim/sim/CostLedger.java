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

    private final CostModel model;
    private final EnumMap<Kind, Double> byKind = new EnumMap<>(Kind.class);
    private final EnumMap<Lane, Double> byLane = new EnumMap<>(Lane.class);
    private final EnumMap<Kind, Long> counts = new EnumMap<>(Kind.class);
    private double total;
    private double stepStart;
    private double stepSum;
    private long steps;

    public CostLedger(CostModel model) {
        this.model = model;
        for (Kind k : Kind.values()) {
            byKind.put(k, 0.0);
            counts.put(k, 0L);
        }
        for (Lane l : Lane.values()) byLane.put(l, 0.0);
    }

    public CostModel model() { return model; }

    /** Charges {@code units} of {@code kind} (hypercalls, bytes, packets...) to {@code lane}. */
    public void charge(Lane lane, Kind kind, double units) {
        double ns = units * model.get(kind.param);
        byKind.merge(kind, ns, Double::sum);
        byLane.merge(lane, ns, Double::sum);
        counts.merge(kind, (long) Math.ceil(units), Long::sum);
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
    public double of(Kind k) { return byKind.get(k); }
    public double of(Lane l) { return byLane.get(l); }
    public long count(Kind k) { return counts.get(k); }
    public Map<Lane, Double> lanes() { return java.util.Collections.unmodifiableMap(byLane); }

    /** The run's simulated duration: its busiest lane. */
    public double elapsed() {
        double m = 0;
        for (double v : byLane.values()) m = Math.max(m, v);
        return m;
    }
}
