package tcesim.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tcesim.papr.Mix;

/**
 * The run's event log: a running 64-bit hash of every event (two runs are the same run exactly when their
 * hashes match), the most recent events, and per-IOVA-page and per-guest-page histories so that a
 * violation can be explained by its causes (who mapped, who cleared, by which path, what vhost cached and
 * when).
 *
 * <p>Components report through it the way the real ones emit trace events; nothing in the model reads it
 * back to decide what to do.
 */
public final class Trace {
    public static final int PAGE_SHIFT = 12;

    private final int keepRecent;
    private final int keepPerPage;
    private final ArrayDeque<Event> recent = new ArrayDeque<>();
    private final Map<Long, ArrayDeque<Event>> byIova = new HashMap<>();
    private final Map<Long, ArrayDeque<Event>> byGpa = new HashMap<>();
    private long hash = 0x7ce5_1_3L;
    private long seq;
    private long step;
    private boolean enabled = true;

    public Trace(int keepRecent, int keepPerPage) {
        this.keepRecent = keepRecent;
        this.keepPerPage = keepPerPage;
    }

    public Trace() {
        this(4096, 24);
    }

    /** Hash-only mode: no event objects are kept (for campaigns). */
    public static Trace hashOnly() {
        return new Trace(0, 0);
    }

    /** No events and no hash: components skip building event text (for the checker, which fingerprints states instead). */
    public static Trace off() {
        Trace t = new Trace(0, 0);
        t.enabled = false;
        return t;
    }

    public void setStep(long step) { this.step = step; }
    public long step() { return step; }
    public void setEnabled(boolean on) { this.enabled = on; }
    public boolean enabled() { return enabled; }

    public void emit(String actor, String action, long iova, long gpa, String detail) {
        if (!enabled) return;
        hash = Mix.mix(Mix.mix(hash, actor.hashCode(), action.hashCode()), Mix.mix(iova, gpa), detail.hashCode());
        seq++;
        if (keepRecent == 0 && keepPerPage == 0) return;
        Event e = new Event(seq, step, actor, action, detail, iova, gpa);
        if (keepRecent > 0) {
            if (recent.size() == keepRecent) recent.removeFirst();
            recent.addLast(e);
        }
        if (keepPerPage > 0) {
            if (iova != Event.NONE) remember(byIova, iova >>> PAGE_SHIFT, e);
            if (gpa != Event.NONE) remember(byGpa, gpa >>> PAGE_SHIFT, e);
        }
    }

    private void remember(Map<Long, ArrayDeque<Event>> m, long key, Event e) {
        ArrayDeque<Event> q = m.computeIfAbsent(key, k -> new ArrayDeque<>());
        if (q.size() == keepPerPage) q.removeFirst();
        q.addLast(e);
    }

    public long hash() { return hash; }
    public long events() { return seq; }

    public List<Event> recent() { return new ArrayList<>(recent); }

    public List<Event> historyOfIova(long iova) {
        ArrayDeque<Event> q = byIova.get(iova >>> PAGE_SHIFT);
        return q == null ? Collections.emptyList() : new ArrayList<>(q);
    }

    public List<Event> historyOfGpa(long gpa) {
        ArrayDeque<Event> q = byGpa.get(gpa >>> PAGE_SHIFT);
        return q == null ? Collections.emptyList() : new ArrayList<>(q);
    }
}
