package tcesim.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import tcesim.sim.Event;
import tcesim.sim.Violation;

/**
 * Draws a run's events as a swimlane picture meant to be read as a still image: one lane per part of the stack
 * (guest vCPU, KVM, QEMU, vhost, device, memory), one column per event with a two-line label (what happened; the
 * iova and gpa involved), a step axis with the trace's step numbers, a gap marker where events were left out, an
 * arrow for each causal link between two events of one IOVA (vhost's MISS, QEMU reading it and answering with
 * UPDATE; a call and the INVALIDATE it caused: see {@link #links}) and a legend. Labels are laid out so that no two
 * overlap and none covers a mark or an arrowhead; each arrow ends on the edge of the mark it points to.
 *
 * <p>With a violation it also draws a banner naming the broken property, a caption box saying in plain
 * words what was accessed, through which translation and what the guest's table held, the violation's
 * causal chain in orange (see {@link #causalChain}), the violating access in red, the stale translation
 * it used as a red dashed line, and a red cross where a clear reached vhost with no INVALIDATE. The page opens
 * the picture at the violation (see {@link #SCRIPT}); the lane names stay in view while the events scroll.
 */
public final class Timeline {
    public static final String[] LANES = {"guest vCPU", "KVM", "QEMU", "vhost", "device", "memory"};
    private static final int VHOST_LANE = 3;
    private static final int MEMORY_LANE = 5;
    private static final int LANE_H = 92;
    private static final int COL_W = 64;
    private static final int GAP_W = 76;
    private static final int CAPTION_W = 800;
    private static final String BLUE = "#4c78a8";
    private static final String ORANGE = "#f39c12";
    private static final String RED = "#d62728";
    private static final String GREY = "#555555";

    private Timeline() {}

    /** The lane an event belongs to. */
    static int lane(Event e) {
        String a = e.actor();
        if (a.startsWith("vcpu")) {
            if (e.detail().endsWith("[QEMU]")) return 2;
            if (e.detail().endsWith("[real mode]") || e.detail().endsWith("[virtual mode]")) return 1;
            if (e.action().equals("kernel-alloc")) return MEMORY_LANE;
            return 0;
        }
        if (a.equals("kvm")) return 1;
        if (a.equals("qemu") || a.equals("qemu-blk")) return 2;
        if (a.equals("vhost")) return VHOST_LANE;
        if (a.equals("vfio-dev") || a.equals("net")) return 4;
        return MEMORY_LANE;
    }

    /** Whether an event also marks a change of a guest page's owner (drawn again in the memory lane). */
    static boolean touchesMemory(Event e) {
        return e.gpa() >= 0 && (e.action().endsWith("reap") || e.action().equals("rx-revoke") || e.action().equals("rx-refill")
                || e.action().equals("tx-send") || e.action().equals("pt-refill"));
    }

    // ---- reading the trace ----------------------------------------------------------------------

    private static long page(long addr) {
        return addr >>> 12;
    }

    private static boolean onPage(Event e, long page) {
        return e.iova() >= 0 && page(e.iova()) == page;
    }

    private static boolean is(Event e, String actor, String action) {
        return e.actor().equals(actor) && e.action().equals(action);
    }

    private static boolean isHcall(Event e) {
        return e.action().startsWith("H_");
    }

    /** QEMU's or KVM's INVALIDATE of vhost's IOTLB. */
    private static boolean isInvalidate(Event e) {
        return e.action().equals("invalidate") && (e.actor().equals("qemu") || e.actor().equals("kvm"));
    }

    /** A hypercall that writes valid TCEs. */
    private static boolean isMap(Event e) {
        return switch (e.action()) {
            case "H_PUT_TCE" -> e.gpa() >= 0;
            case "H_PUT_TCE_INDIRECT" -> true;
            case "H_STUFF_TCE" -> !e.detail().contains("tce=0,");
            default -> false;
        };
    }

    /** A hypercall that clears TCEs. */
    private static boolean isClear(Event e) {
        return (e.action().equals("H_PUT_TCE") || e.action().equals("H_STUFF_TCE")) && !isMap(e);
    }

    /**
     * A vCPU's TCE hypercall as the trace shows it: its return (H_PUT_TCE, ...), or the point where it waits in the
     * middle (for the BQL, for vhost's mutex, for QEMU's acknowledgement), which names the call too.
     */
    private static boolean isCall(Event e) {
        if (!e.actor().startsWith("vcpu") || e.iova() < 0) return false;
        return isHcall(e) || e.action().equals("wait-bql") || e.action().equals("wait-vhost") || e.action().equals("wait-ack");
    }

    /** A call that clears TCEs: a clearing hypercall, or a wait in the middle of one (tce=0, or a TCE with no permission). */
    private static boolean startsClear(Event e) {
        if (isClear(e)) return true;
        if (!isCall(e) || isHcall(e)) return false;
        String d = e.detail();
        return (d.startsWith("H_PUT_TCE(") || d.startsWith("H_STUFF_TCE(")) && (d.contains("tce=0,") || d.contains("tce=0)") || d.contains("[--]"));
    }

    /**
     * Whether an event reaches IOVA page {@code page}: a multi-TCE hypercall covers npages TCEs from its ioba
     * (4 KiB TCEs, as in the default window), an UPDATE or INVALIDATE its size from its iova, anything else its own page.
     */
    private static boolean covers(Event e, long page) {
        if (e.iova() < 0) return false;
        long first = page(e.iova());
        return page >= first && page - first < pages(e);
    }

    /** How many IOVA pages an event reaches from its own (see {@link #covers}). */
    private static long pages(Event e) {
        boolean sized = isInvalidate(e) || is(e, "qemu", "update");
        long n = isCall(e) ? number(e.detail(), "npages=", 10, 1) : sized ? (number(e.detail(), "size 0x", 16, 0x1000) + 0xfff) >>> 12 : 1;
        return Math.max(1, n);
    }

    /** Whether two events reach a common IOVA page. */
    private static boolean overlap(Event a, Event b) {
        if (a.iova() < 0 || b.iova() < 0) return false;
        long a0 = page(a.iova()), b0 = page(b.iova());
        return a0 < b0 + pages(b) && b0 < a0 + pages(a);
    }

    /** The number after {@code key} in {@code s}, or {@code otherwise}. */
    private static long number(String s, String key, int radix, long otherwise) {
        int i = s.indexOf(key);
        if (i < 0) return otherwise;
        int from = i + key.length(), to = from;
        while (to < s.length() && Character.digit(s.charAt(to), radix) >= 0) to++;
        try {
            return to == from ? otherwise : Long.parseLong(s.substring(from, to), radix);
        } catch (NumberFormatException tooBig) {
            return otherwise;
        }
    }

    /** The hypercall's path as the trace names it ("real mode", "virtual mode", "QEMU"). */
    private static String path(Event e) {
        int i = e.detail().lastIndexOf('[');
        return i < 0 || !e.detail().endsWith("]") ? "" : e.detail().substring(i + 1, e.detail().length() - 1);
    }

    private static int last(List<Event> ev, int before, Predicate<Event> p) {
        for (int i = before - 1; i >= 0; i--) if (p.test(ev.get(i))) return i;
        return -1;
    }

    /**
     * The event of the violating access: the violating actor's event at the violation's step, on its IOVA page if one
     * is; failing that, an event of that step in the actor's lane (KVM's handler breaks a property inside a vCPU's
     * hypercall, which the trace records as the vCPU's), on the IOVA page if one is. Null for a violation no event
     * shows (a stall).
     */
    static Event violating(List<Event> ev, Violation v) {
        if (v == null) return null;
        Event e = violating(ev, v, e1 -> e1.actor().equals(v.actor()));
        if (e != null || v.actor().equals("-")) return e;
        int lane = lane(new Event(0, 0, v.actor(), "", "", Event.NONE, Event.NONE));
        return violating(ev, v, e1 -> lane(e1) == lane);
    }

    private static Event violating(List<Event> ev, Violation v, Predicate<Event> whose) {
        Event any = null;
        for (int i = ev.size() - 1; i >= 0; i--) {
            Event e = ev.get(i);
            if (e.step() != v.step() || !whose.test(e)) continue;
            if (v.iova() < 0 || onPage(e, page(v.iova()))) return e;
            if (any == null) any = e;
        }
        return any;
    }

    /**
     * How a violation came about, as far as the events show it (each part null or empty where they do not):
     * the guest's map that created the translation that was used, vhost's MISS, QEMU's read of it and its
     * translation, the UPDATE that put it in vhost's IOTLB, what happened to the IOVA afterwards (clears,
     * re-maps, INVALIDATEs, a window removed), for corruption the page's new use, and the access itself.
     */
    record Chain(Event map, Event miss, Event missRead, Event translate, Event update, List<Event> after, List<Event> reuse, Event access) {
        static final Chain NONE = new Chain(null, null, null, null, null, List.of(), List.of(), null);

        Set<Event> members() {
            Set<Event> s = new HashSet<>(after);
            s.addAll(reuse);
            for (Event e : new Event[] {map, miss, missRead, translate, update, access}) if (e != null) s.add(e);
            return s;
        }
    }

    // ---- causal links ---------------------------------------------------------------------------

    /** What links two events: vhost's MISS and QEMU's read of it, that read and the UPDATE answering it, a call and the INVALIDATE it caused. */
    enum LinkKind { MISS_READ, READ_UPDATE, CALL_INVALIDATE }

    /** A causal link, drawn as an arrow from the earlier event to the later one. */
    record Link(Event from, Event to, LinkKind kind) {}

    /**
     * The events in the order the picture draws them, and the call each INVALIDATE sent from inside a vCPU's
     * hypercall was sent during. The order is the trace's, except that such an INVALIDATE (KVM's own through the
     * D4 link, QEMU's when it handles the call) comes right after its call: the trace records a call when it
     * returns or waits, after what it did, and the picture puts a cause before what it caused.
     */
    record Ordered(List<Event> events, Map<Event, Event> sentDuring) {}

    static Ordered displayOrder(List<Event> events) {
        List<Event> ev = new ArrayList<>(events);
        ev.sort(Comparator.comparingLong(Event::seq));
        List<Event> out = new ArrayList<>(ev.size());
        Map<Event, Event> during = new HashMap<>();
        List<Event> held = new ArrayList<>();
        for (int i = 0; i < ev.size(); i++) {
            Event e = ev.get(i);
            Event call = isInvalidate(e) ? callAfter(ev, i) : null;
            if (call != null) {
                held.add(e);
                during.put(e, call);
                continue;
            }
            out.add(e);
            if (isCall(e)) {
                out.addAll(held);
                held.clear();
            }
        }
        out.addAll(held);
        return new Ordered(out, during);
    }

    /** The vCPU's call traced after the INVALIDATE at {@code i} in the same step: the one it was sent during, or null. */
    private static Event callAfter(List<Event> ev, int i) {
        for (int j = i + 1; j < ev.size() && ev.get(j).step() == ev.get(i).step(); j++) if (isCall(ev.get(j))) return ev.get(j);
        return null;
    }

    /**
     * The causal links among the events, each from an earlier event to a later one (in {@link #displayOrder}), the two
     * reaching a common IOVA page: vhost's MISS to QEMU's read of it (vhost's read list is a FIFO: a read takes the oldest
     * MISS of its IOVA not read yet), that read to the UPDATE answering it (the oldest read not answered yet of an IOVA
     * the UPDATE covers; a read QEMU could not translate is answered by nothing), and a call to the INVALIDATE it
     * caused: the call it was sent during, or for an INVALIDATE QEMU sends later (D3's eventfd) the latest clear before
     * it of a page it covers, unless that clear's INVALIDATE was already sent. An INVALIDATE sent during a call but for
     * other pages than the call's (D4k's range) is linked to nothing.
     */
    static List<Link> links(Ordered o) {
        List<Event> ev = o.events();
        List<Link> out = new ArrayList<>();
        List<Event> misses = new ArrayList<>();
        List<Event> reads = new ArrayList<>();
        Set<Event> causes = new HashSet<>();
        for (int j = 0; j < ev.size(); j++) {
            Event e = ev.get(j);
            if (is(e, "vhost", "iotlb-miss") && e.iova() >= 0) {
                misses.add(e);
            } else if (is(e, "qemu", "miss-read")) {
                Event m = take(misses, x -> x.iova() == e.iova());
                if (m != null) out.add(new Link(m, e, LinkKind.MISS_READ));
                reads.add(e);
            } else if (is(e, "qemu", "no-translation")) {
                for (int i = reads.size() - 1; i >= 0; i--) {
                    if (reads.get(i).iova() == e.iova()) {
                        reads.remove(i);
                        break;
                    }
                }
            } else if (is(e, "qemu", "update")) {
                Event r = take(reads, x -> covers(e, page(x.iova())));
                if (r != null) out.add(new Link(r, e, LinkKind.READ_UPDATE));
            } else if (isInvalidate(e)) {
                Event call = o.sentDuring().get(e);
                if (call == null) {
                    int c = last(ev, j, x -> x.step() < e.step() && startsClear(x) && overlap(x, e));
                    call = c < 0 || causes.contains(ev.get(c)) ? null : ev.get(c);
                }
                if (call != null && overlap(call, e)) {
                    out.add(new Link(call, e, LinkKind.CALL_INVALIDATE));
                    causes.add(call);
                }
            }
        }
        return out;
    }

    /** Removes and returns the first element of {@code l} that {@code p} accepts, or null. */
    private static Event take(List<Event> l, Predicate<Event> p) {
        for (int i = 0; i < l.size(); i++) if (p.test(l.get(i))) return l.remove(i);
        return null;
    }

    /** The event a link of kind {@code k} leads to {@code to} from, or null. */
    private static Event linkedTo(List<Link> links, Event to, LinkKind k) {
        for (Link l : links) if (l.kind() == k && l.to().equals(to)) return l.from();
        return null;
    }

    /** The INVALIDATEs linked to the call {@code from}. */
    private static List<Event> invalidatesOf(List<Link> links, Event from) {
        return links.stream().filter(l -> l.kind() == LinkKind.CALL_INVALIDATE && l.from().equals(from)).map(Link::to).toList();
    }

    static Chain chain(Ordered o, List<Link> links, Violation v) {
        List<Event> ev = o.events();
        Event access = violating(ev, v);
        if (access == null) return Chain.NONE;
        if (v.iova() < 0) return new Chain(null, null, null, null, null, List.of(), List.of(), access);
        long p = page(v.iova());
        int a = ev.indexOf(access);
        int u = last(ev, a, e -> is(e, "qemu", "update") && covers(e, p));
        // the read the UPDATE answered, QEMU's translation of it (traced with it) and the MISS it read, as the links have them
        int mr = u < 0 ? -1 : ev.indexOf(linkedTo(links, ev.get(u), LinkKind.READ_UPDATE));
        int t = -1;
        for (int i = mr + 1; mr >= 0 && i < ev.size() && ev.get(i).step() == ev.get(mr).step(); i++) {
            if (is(ev.get(i), "qemu", "translate") && ev.get(i).iova() == ev.get(mr).iova()) {
                t = i;
                break;
            }
        }
        int miss = mr < 0 ? -1 : ev.indexOf(linkedTo(links, ev.get(mr), LinkKind.MISS_READ));
        int anchor = miss >= 0 ? miss : mr >= 0 ? mr : u >= 0 ? u : a;
        long used = u >= 0 && ev.get(u).gpa() >= 0 ? page(ev.get(u).gpa()) : v.gpa() >= 0 ? page(v.gpa()) : -1;
        int map = last(ev, anchor, e -> isMap(e) && covers(e, p) && (e.gpa() < 0 || page(e.gpa()) == used));
        if (map < 0) map = last(ev, anchor, e -> isMap(e) && covers(e, p));
        // with nothing of the translation's making in the events, everything before the access may matter
        int from = map >= 0 ? map : anchor < a ? anchor : -1;
        List<Integer> taken = List.of(map, miss, mr, t, u);
        // the map's own INVALIDATE (D4) went before the translation was cached: not part of what happened since
        List<Event> mapsOwn = map < 0 ? List.of() : invalidatesOf(links, ev.get(map));
        List<Event> after = new ArrayList<>();
        for (int i = from + 1; i < a; i++) {
            Event e = ev.get(i);
            boolean changes = (isMap(e) || isClear(e) || isInvalidate(e)) && covers(e, p) || e.action().equals("remove-ddw");
            if (changes && !taken.contains(i) && !mapsOwn.contains(e)) after.add(e);
        }
        List<Event> reuse = new ArrayList<>();
        if (v.property() == Violation.Property.CORRUPTION && v.gpa() >= 0) {
            long g = page(v.gpa());
            Predicate<Event> elsewhere = e -> e.gpa() >= 0 && page(e.gpa()) == g && !onPage(e, p);
            int r = last(ev, a, elsewhere);
            if (r > from) for (int i = from + 1; i < a; i++) if (ev.get(i).step() == ev.get(r).step() && elsewhere.test(ev.get(i))) reuse.add(ev.get(i));
        }
        return new Chain(at(ev, map), at(ev, miss), at(ev, mr), at(ev, t), at(ev, u), after, reuse, access);
    }

    private static Event at(List<Event> ev, int i) {
        return i < 0 ? null : ev.get(i);
    }

    /**
     * The events that explain a violation, in trace order: the map that created the translation used, the
     * MISS and UPDATE that cached it, the clears, re-maps and INVALIDATEs of the IOVA after it, the page's
     * new use (for corruption) and the violating access. Empty without a violation.
     */
    public static List<Event> causalChain(List<Event> events, Violation v) {
        Ordered o = displayOrder(events);
        Set<Event> members = chain(o, links(o), v).members();
        return o.events().stream().filter(members::contains).sorted(Comparator.comparingLong(Event::seq)).toList();
    }

    /** Whether an INVALIDATE for IOVA page {@code p} comes after the call at {@code c} and before {@code end} (in display order, where one sent during the call follows it). */
    private static boolean invalidated(List<Event> ev, int c, int end, long p) {
        for (int i = c + 1; i < end; i++) if (isInvalidate(ev.get(i)) && covers(ev.get(i), p)) return true;
        return false;
    }

    // ---- words ----------------------------------------------------------------------------------

    private static String hex(long v) {
        return String.format(Locale.ROOT, "0x%x", v);
    }

    private static String step(long s) {
        return s == 0 ? "boot" : String.format(Locale.ROOT, "%,d", s);
    }

    /** The two lines of an event's label: what happened, and the addresses it involved. */
    static String[] label(Event e) {
        String iova = e.iova() >= 0 ? hex(e.iova()) : "";
        String where = e.iova() >= 0 && e.gpa() >= 0 ? iova + "→" + hex(e.gpa()) : e.iova() >= 0 ? "iova " + iova : e.gpa() >= 0 ? "gpa " + hex(e.gpa()) : "";
        long n = number(e.detail(), "npages=", 10, 1);
        return switch (e.action()) {
            case "H_PUT_TCE" -> e.gpa() >= 0 ? new String[] {"H_PUT_TCE", where} : new String[] {"H_PUT_TCE(0)", "clears " + iova};
            case "H_STUFF_TCE" -> new String[] {"H_STUFF_TCE ×" + n, (isMap(e) ? "maps " : "clears ") + iova};
            case "H_PUT_TCE_INDIRECT" -> new String[] {"H_PUT_TCE_IND ×" + n, "maps " + iova};
            case "wait-bql" -> new String[] {"waits for BQL", where};
            case "wait-ack" -> new String[] {"waits for ack", where};
            case "kernel-alloc" -> new String[] {"kernel takes", "a page"};
            case "remove-ddw" -> new String[] {"removes DDW", "(64-bit window)"};
            case "tx-send" -> new String[] {"posts TX buffer", where};
            case "rx-refill" -> new String[] {"posts RX buffer", where};
            case "pt-refill" -> new String[] {"posts PT buffer", where};
            case "tx-reap", "rx-reap", "pt-reap" -> new String[] {e.action().substring(0, 2).toUpperCase(Locale.ROOT) + " done, frees", where};
            case "rx-revoke" -> new String[] {"takes RX back", where};
            case "iotlb-miss" -> new String[] {"IOTLB MISS", where};
            case "vq-error" -> new String[] {"queue error", where};
            case "translate" -> new String[] {"translates", where};
            case "rx-copy" -> new String[] {"writes packet", where};
            case "tx-copy" -> new String[] {"reads packet", where};
            case "miss-read" -> new String[] {"reads MISS", where};
            case "no-translation" -> new String[] {"no translation", where};
            case "update" -> new String[] {"UPDATE", where};
            case "invalidate" -> new String[] {"INVALIDATE", where};
            case "rx-packet" -> new String[] {"packet " + number(e.detail(), "packet ", 10, 0), "at the tap"};
            case "dma-write" -> new String[] {"DMA write", where};
            case "dma-fault" -> new String[] {"DMA fault", where};
            default -> new String[] {e.action(), where};
        };
    }

    /** The label of an event drawn again in the memory lane: the page and what happens to it. */
    private static String[] memoryLabel(Event e) {
        String what = switch (e.action()) {
            case "tx-send" -> "to device (TX)";
            case "rx-refill" -> "to device (RX)";
            case "pt-refill" -> "to device (PT)";
            case "rx-revoke" -> "taken back";
            default -> "freed";
        };
        return new String[] {"page " + hex(e.gpa()), what};
    }

    /** The banner: which property broke, and why, or that none did. */
    static String banner(Violation v) {
        if (v == null) return "No property broken in these events";
        return "VIOLATION: " + v.property().label() + " — " + v.why();
    }

    /** The caption's paragraphs, each a heading and its text: what was accessed, through which translation, what the table held. */
    static List<String[]> caption(Ordered o, List<Link> links, Violation v, Chain c) {
        List<String[]> out = new ArrayList<>();
        if (v.property() == Violation.Property.PROGRESS) {
            out.add(new String[] {"What stalled", v.access() + " at step " + step(v.step())});
            out.add(new String[] {"Why", v.why()});
            return out;
        }
        out.add(new String[] {"What was accessed", v.actor() + " " + v.access() + ", at step " + step(v.step()) + "."});
        StringBuilder through = new StringBuilder();
        if (c.update() != null) {
            through.append(String.format(Locale.ROOT, "vhost's IOTLB entry iova %s → gpa %s, installed by QEMU's UPDATE at step %s", hex(c.update().iova()),
                    hex(c.update().gpa()), step(c.update().step())));
            if (c.miss() != null) through.append(" in answer to vhost's MISS at step ").append(step(c.miss().step()));
            if (c.missRead() != null) through.append(c.miss() != null ? ", which QEMU read" : " answering the MISS QEMU read").append(" at step ").append(step(c.missRead().step()));
        } else if (c.access() != null) {
            through.append(c.access().detail());
        } else {
            through.append("not among the events shown");
        }
        if (c.map() != null) {
            through.append(String.format(Locale.ROOT, "; the guest had mapped iova %s%s at step %s (%s)", hex(c.map().iova()),
                    c.map().gpa() >= 0 ? " → gpa " + hex(c.map().gpa()) : "", step(c.map().step()), c.map().action()));
        }
        out.add(new String[] {"Through which translation", through + "."});
        StringBuilder held = new StringBuilder(v.why());
        List<Event> ev = o.events();
        int a = c.access() == null ? ev.size() : ev.indexOf(c.access());
        long p = v.iova() < 0 ? -1 : page(v.iova());
        // an INVALIDATE told together with the call that caused it is not told again on its own
        Set<Event> told = new HashSet<>();
        for (Event e : c.after()) if (isMap(e) || isClear(e)) told.addAll(invalidatesOf(links, e));
        List<String> since = new ArrayList<>();
        for (Event e : c.after()) {
            int i = ev.indexOf(e);
            String mode = path(e).isEmpty() ? "" : ", " + path(e);
            if (isClear(e) || isMap(e)) {
                StringBuilder s = new StringBuilder(isClear(e) ? String.format(Locale.ROOT, "cleared at step %s (%s%s)", step(e.step()), e.action(), mode)
                        : String.format(Locale.ROOT, "mapped again at step %s (%s%s%s)", step(e.step()), e.action(), e.gpa() >= 0 ? " → gpa " + hex(e.gpa()) : "", mode));
                List<Event> own = invalidatesOf(links, e).stream().filter(x -> covers(x, p)).toList();
                for (Event x : own) {
                    s.append(String.format(Locale.ROOT, ", and %s sent vhost an INVALIDATE for it %s%s", sender(x),
                            x.step() == e.step() ? "in the same step" : "at step " + step(x.step()), early(x, c) ? ", before the UPDATE installed the old translation" : ""));
                }
                // what the call sent for other pages (D4k's range) is not an INVALIDATE of this IOVA
                List<Event> astray = o.sentDuring().entrySet().stream().filter(x -> x.getValue().equals(e) && !covers(x.getKey(), p)).map(Map.Entry::getKey)
                        .sorted(Comparator.comparingLong(Event::seq)).toList();
                if (!astray.isEmpty()) {
                    s.append(String.format(Locale.ROOT, "; the INVALIDATE %s sent during it was for iova %s, not this IOVA", sender(astray.get(0)),
                            String.join(", ", astray.stream().map(x -> hex(x.iova())).toList())));
                }
                if (isClear(e) && !invalidated(ev, i, a, p)) {
                    s.append(astray.isEmpty() ? ", and no INVALIDATE reached vhost before the access" : ", and none for this IOVA reached vhost before the access");
                }
                since.add(s.toString());
            } else if (isInvalidate(e)) {
                if (told.contains(e)) continue;
                since.add(String.format(Locale.ROOT, "%s sent an INVALIDATE at step %s%s", sender(e), step(e.step()), early(e, c) ? ", before the UPDATE installed the old translation" : ""));
            } else {
                since.add("the DMA window was removed at step " + step(e.step()) + " with no INVALIDATE");
            }
        }
        if (since.size() > 4) since = List.of(String.join("; ", since.subList(0, 4)), "… " + (since.size() - 4) + " more");
        if (!since.isEmpty()) held.append(". Since the translation was cached: ").append(String.join("; ", since));
        if (!c.reuse().isEmpty()) {
            Event r = c.reuse().stream().filter(e -> !isHcall(e)).findFirst().orElse(c.reuse().get(0));
            held.append(". At step ").append(step(r.step())).append(" the guest ").append(r.detail());
        }
        out.add(new String[] {v.property() == Violation.Property.CORRUPTION ? "What the guest had done with the page" : "What the guest's table held", held + "."});
        return out;
    }

    private static String sender(Event invalidate) {
        return invalidate.actor().equals("kvm") ? "KVM" : "QEMU";
    }

    /** Whether an INVALIDATE came before the UPDATE that installed the translation used: it could not remove it. */
    private static boolean early(Event invalidate, Chain c) {
        return c.update() != null && invalidate.seq() < c.update().seq();
    }

    /** Lines no wider than {@code maxPx} at font size {@code px} (by {@link #textWidth}), broken at spaces. */
    static List<String> wrap(String s, double maxPx, double px, boolean bold) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : s.split(" ")) {
            if (line.length() > 0 && textWidth(line + " " + word, px, false, bold) > maxPx) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) line.append(' ');
            line.append(word);
        }
        if (line.length() > 0) lines.add(line.toString());
        return lines;
    }

    /**
     * A generous estimate of a text's width in px, so that a box laid out with it holds the text: per character, the
     * widths of DejaVu Sans (the widest of the common sans-serif fonts, Debian's default) rounded up, 0.61 em a
     * character in monospace, bold 14% wider.
     */
    static double textWidth(String s, double px, boolean mono, boolean bold) {
        double em = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (mono) em += 0.61;
            else if (c == ' ') em += 0.33;
            else if ("iljftrI|.,:;'!()[]{}".indexOf(c) >= 0) em += 0.42;
            else if ("mwMW@%".indexOf(c) >= 0) em += 1.0;
            else if (Character.isUpperCase(c)) em += 0.78;
            else if (Character.isDigit(c) || c < 128) em += 0.65;
            else em += 1.0;
        }
        return em * px * (bold && !mono ? 1.14 : 1.0) + 2;
    }

    // ---- drawing --------------------------------------------------------------------------------

    /** The page's CSS for a timeline: the caption beside the legend, the events scrolling under lane names that stay in view. */
    public static final String CSS = ".timeline-box{border:1px solid #ddd;margin:8px 0}"
            + ".timeline-head{display:flex;flex-wrap:wrap;gap:6px 24px;align-items:flex-start;padding:6px 6px 0}"
            + ".scroll{overflow-x:auto}.strip{display:flex;width:max-content}.strip svg{flex:none;display:block}"
            + ".lane-names{position:sticky;left:0;z-index:1}";

    /**
     * The page's script that opens each timeline at its violation: the events' box scrolls so that the violating
     * access stands some way left of its right edge, with the causal chain before it in view, or, for a violation no
     * event shows (a stall), to its last events. (Without scripts the box opens at its first event.)
     */
    public static final String SCRIPT = "<script>/*<![CDATA[*/\n"
            + "for (const box of document.querySelectorAll('.timeline-box .scroll[data-focus]')) {\n"
            + "  const bad = document.getElementById(box.dataset.focus);\n"
            + "  if (!bad) { box.scrollLeft = box.scrollWidth; continue; }\n"
            + "  const b = bad.getBoundingClientRect(), s = box.getBoundingClientRect();\n"
            + "  box.scrollLeft += b.left + b.width / 2 - s.left - Math.max(box.clientWidth * 0.6, box.clientWidth - 320);\n"
            + "}\n/*]]>*/</script>\n";

    /**
     * The timeline of {@code events} as an HTML block, with {@code v}'s causal chain highlighted when it is not null:
     * the banner and caption beside the legend, then the lane names and, scrolling beside them, the events. {@code id}
     * is unique per page: the element ids start with it ({@code ID-timeline} is the events' SVG, {@code ID-violation}
     * the violating access).
     */
    public static String html(String id, List<Event> events, Violation v) {
        Ordered o = displayOrder(events);
        List<Event> ev = o.events();
        List<Link> links = links(o);
        Chain chain = chain(o, links, v);
        Scene scene = Scene.lay(ev, links, chain);
        StringBuilder sb = new StringBuilder();
        sb.append("<div class=\"timeline-box\" id=\"").append(esc(id)).append("-box\">\n<div class=\"timeline-head\">\n");
        sb.append(head(id, v == null ? List.of() : caption(o, links, v, chain), v));
        sb.append(legend(id, Key.shown(chain.access() != null)));
        // what the box opens at: the violating access, or the end when the violation shows in no event (a stall)
        String focus = v == null ? "" : chain.access() != null ? " data-focus=\"" + esc(id) + "-violation\"" : " data-focus=\"end\"";
        sb.append("</div>\n<div class=\"scroll\"").append(focus).append("><div class=\"strip\">\n");
        sb.append(laneNames(scene.height));
        sb.append(scene.svg(id));
        return sb.append("</div></div>\n</div>\n").toString();
    }

    /** A rectangle in a picture's coordinates: left, top, width, height. */
    record Box(double x, double y, double w, double h) {
        boolean hits(Box o) {
            return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
        }

        boolean contains(double px, double py) {
            return px > x && px < x + w && py > y && py < y + h;
        }

        Box grow(double d) {
            return new Box(x - d, y - d, w + 2 * d, h + 2 * d);
        }

        double right() {
            return x + w;
        }
    }

    /** A stretch of events left out: where its marker goes, and what it says ("… 5,000" over "steps …"). */
    private record Gap(double x, double w, String count, String unit) {}

    /** What the picture draws for an event: its class ("" for an ordinary event, "chain", or "bad"). */
    private static String cls(Event e, Set<Event> chain, Event bad) {
        return e.equals(bad) ? "bad" : chain.contains(e) ? "chain" : "";
    }

    /** Width of the lane names' column, which stays in view while the events scroll. */
    private static final int NAMES_W = 112;
    /** Height of the step axis above the lanes. */
    private static final int AXIS_H = 34;
    /** x of the first column's centre. */
    private static final int FIRST = 64;
    /** Line height of a label's second line below its first, and the height of a one- and a two-line label. */
    private static final int LINE = 13;
    private static final int LABEL_1 = 14;
    private static final int LABEL_2 = LABEL_1 + LINE;
    /** Space kept clear around a label, and how far a label's column moves out each time it finds no place. */
    private static final double CLEAR = 2.5;
    private static final double WIDEN = 28;
    private static final int MAX_ROUNDS = 300;

    /** A mark drawn for an event: a circle (a square in the memory lane, a cross for a clear that reached vhost as nothing). */
    private record Mark(String elementId, Event e, double x, double y, double r, int lane, String cls, boolean square) {}

    /** A label to place beside its mark, with the side it would rather take. */
    private static final class Label {
        final Mark mark;
        final String[] lines;
        final String[] classes;
        final double w;
        final double h;
        final boolean above;
        final int column;
        Box box;
        String anchor;

        Label(Mark mark, String[] lines, String[] classes, double w, boolean above, int column) {
            this.mark = mark;
            this.lines = lines;
            this.classes = classes;
            this.w = w;
            this.h = lines.length == 1 || lines[1].isEmpty() ? LABEL_1 : LABEL_2;
            this.above = above;
            this.column = column;
        }
    }

    /** A place a label may take: its box's top left corner, and which side of the box its text is anchored to. */
    private record Place(double x, double y, String anchor) {}

    /** Something a label must not overlap, and the mark (or cross id) it belongs to, or "" for none. */
    private record Obstacle(Box box, Object owner) {
        Obstacle {
            if (owner == null) owner = "";
        }
    }

    /** A path with an arrowhead at its end: its SVG data, what it joins, the points along it and the arrowhead's box. */
    private record Arrow(String cls, String d, String from, String to, List<double[]> points, Box head, boolean red) {}

    /**
     * The events' picture laid out: a column per event (a gap marker where events were left out), the marks, the
     * arrows, and each label placed where it overlaps no other label, mark, arrowhead or gap and stays in its lane, as
     * far as it can from the lines (see {@link #lay}).
     */
    private static final class Scene {
        final List<Event> ev;
        final List<Link> links;
        final Chain chain;
        final double[] x;
        final List<Gap> gaps = new ArrayList<>();
        final boolean[] gapBefore;
        final List<Mark> marks = new ArrayList<>();
        final Map<Event, Mark> markOf = new HashMap<>();
        final List<Arrow> arrows = new ArrayList<>();
        final List<double[]> crossLines = new ArrayList<>();
        final List<Label> labels = new ArrayList<>();
        /** What labels must not overlap, each with the mark it belongs to (a label may touch its own mark's box), or null. */
        final List<Obstacle> hard = new ArrayList<>();
        final List<double[]> soft = new ArrayList<>();
        double width;
        final int height;

        private Scene(List<Event> ev, List<Link> links, Chain chain, double[] extra) {
            this.ev = ev;
            this.links = links;
            this.chain = chain;
            this.height = AXIS_H + LANES.length * LANE_H + 8;
            x = new double[ev.size()];
            gapBefore = new boolean[ev.size()];
            // the room a column's labels take on either side of its mark, so that a gap marker leaves them room
            Set<Event> members = chain.members();
            double[] half = new double[ev.size()];
            for (int k = 0; k < ev.size(); k++) {
                Event e = ev.get(k);
                boolean bold = !cls(e, members, chain.access()).isEmpty();
                String[] t = label(e), mt = memoryLabel(e);
                half[k] = Math.max(textWidth(t[0], 10.5, false, bold), textWidth(t[1], 10, true, bold)) / 2 + 4;
                if (touchesMemory(e)) half[k] = Math.max(half[k], Math.max(textWidth(mt[0], 10.5, false, bold), textWidth(mt[1], 10, true, bold)) / 2 + 4);
            }
            long maxSeq = Long.MIN_VALUE;
            long[] minSeqFrom = new long[ev.size() + 1];
            minSeqFrom[ev.size()] = Long.MAX_VALUE;
            for (int k = ev.size() - 1; k >= 0; k--) minSeqFrom[k] = Math.min(minSeqFrom[k + 1], ev.get(k).seq());
            double at = FIRST + (ev.isEmpty() ? 0 : extra[0]);
            for (int k = 0; k < ev.size(); k++) {
                if (k > 0) {
                    maxSeq = Math.max(maxSeq, ev.get(k - 1).seq());
                    // events left out here: trace events after all those drawn so far and before all those drawn from here on
                    long events = minSeqFrom[k] - maxSeq - 1;
                    double cursor = x[k - 1] + extra[k] / 2;
                    if (events > 0) {
                        long steps = ev.get(k).step() - ev.get(k - 1).step() - 1;
                        String count = String.format(Locale.ROOT, "… %,d", steps > 1 ? steps : events);
                        String unit = steps > 1 ? "steps …" : events == 1 ? "event …" : "events …";
                        double w = Math.max(textWidth(count, 10, false, false), textWidth(unit, 10, false, false)) + 8;
                        cursor += Math.max(COL_W / 2.0, half[k - 1]) + 4;
                        gaps.add(new Gap(cursor, w, count, unit));
                        gapBefore[k] = true;
                        cursor += w + 4 + Math.max(COL_W / 2.0, half[k]);
                    } else {
                        cursor += COL_W;
                    }
                    at = cursor + extra[k] / 2;
                }
                x[k] = at;
            }
            for (Gap g : gaps) hard.add(new Obstacle(new Box(g.x(), AXIS_H, g.w(), LANES.length * LANE_H), null));
        }

        double mid(int lane) {
            return AXIS_H + lane * LANE_H + LANE_H / 2.0;
        }

        double laneTop(int lane) {
            return AXIS_H + lane * LANE_H;
        }

        /**
         * Lays the events out: columns at their base width, then, while some label finds no place, its column and the
         * next one move out and the layout starts again. After {@link #MAX_ROUNDS} rounds a label takes the place that
         * overlaps least.
         */
        static Scene lay(List<Event> ev, List<Link> links, Chain chain) {
            double[] extra = new double[ev.size()];
            for (int round = 0; ; round++) {
                Scene s = new Scene(ev, links, chain, extra);
                s.build();
                int failed = s.place(round == MAX_ROUNDS);
                if (failed < 0) return s;
                extra[failed] += WIDEN;
                if (failed + 1 < ev.size()) extra[failed + 1] += WIDEN;
            }
        }

        private void build() {
            Set<Event> members = chain.members();
            Set<Event> unpropagated = new HashSet<>(unpropagatedClears(ev, chain));
            for (int k = 0; k < ev.size(); k++) {
                Event e = ev.get(k);
                String cls = cls(e, members, chain.access());
                double r = cls.equals("bad") ? 10 : cls.equals("chain") ? 7 : 6;
                Mark m = new Mark(cls.equals("bad") ? "violation" : "e" + e.seq(), e, x[k], mid(lane(e)), r, lane(e), cls, false);
                marks.add(m);
                markOf.put(e, m);
                hard.add(new Obstacle(new Box(m.x() - r, m.y() - r, 2 * r, 2 * r).grow(1.5), m));
                if (touchesMemory(e) && lane(e) != MEMORY_LANE) {
                    Mark mm = new Mark("m" + e.seq(), e, x[k], mid(MEMORY_LANE), r, MEMORY_LANE, cls, true);
                    marks.add(mm);
                    hard.add(new Obstacle(new Box(mm.x() - r, mm.y() - r, 2 * r, 2 * r).grow(1.5), mm));
                }
                if (unpropagated.contains(e)) {
                    double yv = mid(VHOST_LANE);
                    hard.add(new Obstacle(new Box(x[k] - 7, yv - 7, 14, 14).grow(1.5), "x" + e.seq()));
                    double y0 = m.y() + (lane(e) < VHOST_LANE ? r + 1 : -r - 1), y1 = yv + (lane(e) < VHOST_LANE ? -8 : 8);
                    crossLines.add(new double[] {k, y0, y1});
                    addSegment(soft, x[k], y0, x[k], y1);
                }
            }
            for (Link l : links) {
                Mark a = markOf.get(l.from()), b = markOf.get(l.to());
                arrows.add(messageArrow(a, b));
            }
            if (chain.access() != null && chain.update() != null) arrows.add(staleArrow(markOf.get(chain.update()), markOf.get(chain.access())));
            for (Arrow a : arrows) {
                soft.addAll(a.points());
                hard.add(new Obstacle(a.head(), null));
            }
            // the labels, the most telling first: the access, the chain, the crosses, then the rest from left to right
            List<Label> order = new ArrayList<>();
            for (int pass = 0; pass < 3; pass++) {
                for (int k = 0; k < ev.size(); k++) {
                    Event e = ev.get(k);
                    Mark m = markOf.get(e);
                    int rank = m.cls().equals("bad") ? 0 : m.cls().equals("chain") || unpropagated.contains(e) ? 1 : 2;
                    if (rank != pass) continue;
                    // labels alternate above and below along the picture; the access's goes where no red line comes in
                    boolean above = m.cls().equals("bad") ? chain.update() == null || lane(chain.update()) > lane(e) : unpropagated.contains(e) || k % 2 == 0;
                    order.add(labelOf(m, label(e), above, k));
                    if (unpropagated.contains(e)) {
                        Mark cross = new Mark("x" + e.seq(), e, x[k], mid(VHOST_LANE), 7, VHOST_LANE, "noinv", false);
                        order.add(new Label(cross, new String[] {"no INVALIDATE"}, new String[] {"noinv"}, textWidth("no INVALIDATE", 10, false, true), false, k));
                    }
                    if (touchesMemory(e) && lane(e) != MEMORY_LANE) {
                        Mark mm = marks.stream().filter(q -> q.square() && q.e().equals(e)).findFirst().orElseThrow();
                        order.add(labelOf(mm, memoryLabel(e), k % 2 == 0, k));
                    }
                }
            }
            labels.addAll(order);
        }

        private static Label labelOf(Mark m, String[] text, boolean above, int column) {
            boolean bold = !m.cls().isEmpty();
            double w = Math.max(textWidth(text[0], 10.5, false, bold), text[1].isEmpty() ? 0 : textWidth(text[1], 10, true, bold));
            return new Label(m, text, new String[] {"l1", "l2"}, w, above, column);
        }

        /** A message's arrow from mark a to mark b: straight, or over the marks between them in one lane; it ends on b's edge. */
        private Arrow messageArrow(Mark a, Mark b) {
            List<double[]> pts = new ArrayList<>();
            boolean between = a.lane() == b.lane() && marks.stream().anyMatch(m -> m.lane() == a.lane() && m.x() > a.x() && m.x() < b.x());
            String d;
            double tx, ty, ex, ey;
            if (!between) {
                double dx = b.x() - a.x(), dy = b.y() - a.y(), len = Math.hypot(dx, dy);
                double sx = a.x() + dx * (a.r() + 1) / len, sy = a.y() + dy * (a.r() + 1) / len;
                ex = b.x() - dx * (b.r() + 1) / len;
                ey = b.y() - dy * (b.r() + 1) / len;
                tx = ex - dx / len;
                ty = ey - dy / len;
                d = String.format(Locale.ROOT, "M%.1f,%.1fL%.1f,%.1f", sx, sy, ex, ey);
                addSegment(pts, sx, sy, ex, ey);
            } else {
                // a curve over the lane's marks between them, rising with the distance
                double cx = (a.x() + b.x()) / 2, cy = a.y() - Math.min(LANE_H / 2.0 - 6, 24 + (b.x() - a.x()) / 20);
                double[] s = towards(a, cx, cy), e = towards(b, cx, cy);
                ex = e[0];
                ey = e[1];
                tx = ex - (ex - cx) / Math.hypot(ex - cx, ey - cy);
                ty = ey - (ey - cy) / Math.hypot(ex - cx, ey - cy);
                d = String.format(Locale.ROOT, "M%.1f,%.1fQ%.1f,%.1f %.1f,%.1f", s[0], s[1], cx, cy, ex, ey);
                for (int i = 0; i <= 24; i++) {
                    double t = i / 24.0;
                    pts.add(new double[] {(1 - t) * (1 - t) * s[0] + 2 * t * (1 - t) * cx + t * t * ex, (1 - t) * (1 - t) * s[1] + 2 * t * (1 - t) * cy + t * t * ey});
                }
            }
            return new Arrow("msg", d, a.elementId(), b.elementId(), pts, head(tx, ty, ex, ey, 1.3), false);
        }

        /** The stale translation: from its UPDATE to the lane border next to the access, along it, and into the access from there. */
        private Arrow staleArrow(Mark u, Mark a) {
            double yb = u.lane() == a.lane() ? laneTop(u.lane()) + 3 : laneTop(Math.max(u.lane(), a.lane()));
            double y0 = u.y() + (yb > u.y() ? u.r() + 1 : -u.r() - 1), y3 = a.y() + (a.y() > yb ? -a.r() - 1 : a.r() + 1);
            List<double[]> pts = new ArrayList<>();
            addSegment(pts, u.x(), y0, u.x(), yb);
            addSegment(pts, u.x(), yb, a.x(), yb);
            addSegment(pts, a.x(), yb, a.x(), y3);
            String d = String.format(Locale.ROOT, "M%.1f,%.1fL%.1f,%.1fL%.1f,%.1fL%.1f,%.1f", u.x(), y0, u.x(), yb, a.x(), yb, a.x(), y3);
            return new Arrow("stale", d, u.elementId(), a.elementId(), pts, head(a.x(), yb, a.x(), y3, 1.8), true);
        }

        /** The point on mark m's edge in the direction of (cx, cy), one px out. */
        private static double[] towards(Mark m, double cx, double cy) {
            double dx = cx - m.x(), dy = cy - m.y(), len = Math.hypot(dx, dy);
            return new double[] {m.x() + dx * (m.r() + 1) / len, m.y() + dy * (m.r() + 1) / len};
        }

        /** The box of an arrowhead (the markers below: 10 units long, 7 × the stroke width wide) whose path comes from (tx, ty) to its end (ex, ey). */
        private static Box head(double tx, double ty, double ex, double ey, double stroke) {
            double dx = ex - tx, dy = ey - ty, len = Math.hypot(dx, dy);
            dx /= len;
            dy /= len;
            double unit = 0.7 * stroke;
            double[][] p = {{ex + dx * unit, ey + dy * unit}, {ex - dx * 9 * unit - dy * 5 * unit, ey - dy * 9 * unit + dx * 5 * unit},
                    {ex - dx * 9 * unit + dy * 5 * unit, ey - dy * 9 * unit - dx * 5 * unit}};
            double x0 = Math.min(p[0][0], Math.min(p[1][0], p[2][0])), x1 = Math.max(p[0][0], Math.max(p[1][0], p[2][0]));
            double y0 = Math.min(p[0][1], Math.min(p[1][1], p[2][1])), y1 = Math.max(p[0][1], Math.max(p[1][1], p[2][1]));
            return new Box(x0, y0, x1 - x0, y1 - y0).grow(1);
        }

        private static void addSegment(List<double[]> pts, double x0, double y0, double x1, double y1) {
            int n = Math.max(1, (int) Math.ceil(Math.hypot(x1 - x0, y1 - y0) / 3));
            for (int i = 0; i <= n; i++) pts.add(new double[] {x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n});
        }

        /**
         * Places the labels in order, each at the first of its candidate places that stays in its lane and right of the
         * picture's left edge, overlaps no label placed, no mark, arrowhead or gap, and crosses no line; failing that,
         * the one crossing lines least. Returns -1, or the column of a label that found no place (unless {@code force}).
         */
        private int place(boolean force) {
            List<Box> placed = new ArrayList<>();
            for (Label l : labels) {
                Mark m = l.mark;
                double gapY = m.r() + 3;
                double up = m.y() - gapY - l.h, down = m.y() + gapY;
                double side = m.r() + 4;
                // centred on its side of the mark, then the other side; beside the mark's column on either; level with the mark
                double centred = m.x() - l.w / 2, right = m.x() + side, left = m.x() - side - l.w;
                double near = l.above ? up : down, far = l.above ? down : up, level = m.y() - l.h / 2;
                List<Place> places = List.of(new Place(centred, near, "middle"), new Place(centred, far, "middle"), new Place(right, near, "start"),
                        new Place(left, near, "end"), new Place(right, far, "start"), new Place(left, far, "end"), new Place(right, level, "start"),
                        new Place(left, level, "end"));
                double top = laneTop(m.lane()) + 2, bottom = laneTop(m.lane()) + LANE_H - 2;
                Box best = null;
                String bestAnchor = null;
                double bestCost = Double.MAX_VALUE;
                for (Place c : places) {
                    Box b = new Box(c.x(), c.y(), l.w, l.h);
                    if (b.y() < top || b.y() + b.h() > bottom || b.x() < 2) continue;
                    Box clear = b.grow(CLEAR);
                    long hits = hard.stream().filter(o -> !o.owner().equals(m) && !o.owner().equals(m.elementId()) && clear.hits(o.box())).count()
                            + placed.stream().filter(clear::hits).count();
                    long crossed = soft.stream().filter(p -> clear.contains(p[0], p[1])).count();
                    double cost = hits * 1e6 + crossed;
                    if (cost < bestCost) {
                        best = b;
                        bestAnchor = c.anchor();
                        bestCost = cost;
                    }
                    if (cost == 0) break;
                }
                if ((best == null || bestCost >= 1e6) && !force) return l.column;
                if (best == null) best = new Box(m.x() - l.w / 2, m.lane() == 0 ? down : up, l.w, l.h);
                l.box = best;
                l.anchor = bestAnchor == null ? "middle" : bestAnchor;
                placed.add(best);
            }
            double right = ev.isEmpty() ? FIRST : x[x.length - 1] + COL_W / 2.0;
            for (Label l : labels) right = Math.max(right, l.box.right());
            width = Math.ceil(right + 12);
            return -1;
        }

        String svg(String id) {
            StringBuilder sb = new StringBuilder();
            String w = String.format(Locale.ROOT, "%.0f", width);
            sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s-timeline\" class=\"timeline\" width=\"%s\" height=\"%d\" viewBox=\"0 0 %s %d\">%n",
                    esc(id), w, height, w, height));
            sb.append("<style>.l1{font:10.5px sans-serif;fill:#222}.l2{font:10px monospace;fill:#444}"
                    + ".chain .l1,.chain .l2{fill:#8a4b00;font-weight:bold}.bad .l1,.bad .l2{fill:#d62728;font-weight:bold}.axis{font:10px monospace;fill:#333}"
                    + ".gaptext{font:italic 10px sans-serif;fill:#444}.noinv{font:bold 10px sans-serif;fill:#d62728}</style>\n");
            sb.append(String.format(Locale.ROOT, "<defs><marker id=\"%1$s-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
                    + "<path d=\"M0,0L10,5L0,10z\" fill=\"%2$s\"/></marker><marker id=\"%1$s-arrow-red\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                    + "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"%3$s\"/></marker></defs>%n", esc(id), GREY, RED));
            for (int i = 0; i < LANES.length; i++) {
                sb.append(String.format(Locale.ROOT, "<rect class=\"lane-bg\" x=\"0\" y=\"%.0f\" width=\"%s\" height=\"%d\" fill=\"%s\"/>%n", laneTop(i), w, LANE_H,
                        i % 2 == 0 ? "#f4f4f4" : "#ffffff"));
            }
            for (Gap g : gaps) {
                sb.append(String.format(Locale.ROOT, "<g class=\"gap\"><rect x=\"%.1f\" y=\"2\" width=\"%.1f\" height=\"%d\" fill=\"#ececec\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
                        + "<text class=\"gaptext\" x=\"%.1f\" y=\"14\" text-anchor=\"middle\">%s</text><text class=\"gaptext\" x=\"%.1f\" y=\"27\" text-anchor=\"middle\">%s</text></g>%n",
                        g.x(), g.w(), height - 4, g.x() + g.w() / 2, esc(g.count()), g.x() + g.w() / 2, esc(g.unit())));
            }
            axis(sb);
            for (Arrow a : arrows) {
                sb.append(String.format(Locale.ROOT, "<path class=\"%s\" data-from=\"%s-%s\" data-to=\"%s-%s\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s marker-end=\"url(#%s-arrow%s)\"/>%n",
                        a.cls(), esc(id), a.from(), esc(id), a.to(), a.d(), a.red() ? RED : GREY, a.red() ? "1.8" : "1.3", a.red() ? " stroke-dasharray=\"6 3\"" : "",
                        esc(id), a.red() ? "-red" : ""));
            }
            for (Label l : labels) {
                Mark m = l.mark;
                if (!m.cls().equals("noinv")) continue;
                double[] line = crossLines.stream().filter(c -> x[(int) c[0]] == m.x()).findFirst().orElseThrow();
                double yv = m.y();
                sb.append(String.format(Locale.ROOT, "<g class=\"no-invalidate\" id=\"%s-%s\"><path d=\"M%.1f,%.1fL%.1f,%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>"
                        + "<path class=\"cross\" d=\"M%.1f,%.1fL%.1f,%.1fM%.1f,%.1fL%.1f,%.1f\" stroke=\"%s\" stroke-width=\"2.5\"/>%s</g>%n",
                        esc(id), m.elementId(), m.x(), line[1], m.x(), line[2], RED, m.x() - 6, yv - 6, m.x() + 6, yv + 6, m.x() - 6, yv + 6, m.x() + 6, yv - 6, RED, texts(l)));
            }
            for (Label l : labels) {
                Mark m = l.mark;
                if (m.cls().equals("noinv")) continue;
                Event e = m.e();
                String fill = m.cls().equals("bad") ? RED : m.cls().equals("chain") ? ORANGE : BLUE;
                sb.append("<g class=\"event").append(m.cls().isEmpty() ? "" : " " + m.cls()).append(m.square() ? " memory\"" : "\"");
                sb.append(" id=\"").append(esc(id)).append('-').append(m.elementId()).append('"');
                sb.append(String.format(Locale.ROOT, "><title>step %d: %s %s: %s</title>", e.step(), esc(e.actor()), esc(e.action()), esc(e.detail())));
                if (m.square()) {
                    sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>",
                            m.x() - m.r(), m.y() - m.r(), 2 * m.r(), 2 * m.r(), fill));
                } else {
                    sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.0f\" fill=\"%s\" stroke=\"#222\" stroke-width=\"%s\"/>", m.x(), m.y(), m.r(), fill,
                            m.cls().equals("bad") ? "2.5" : "0.5"));
                }
                sb.append(texts(l)).append("</g>\n");
            }
            return sb.append("</svg>\n").toString();
        }

        /** A label's text elements, anchored on the side of its box nearest the mark. */
        private static String texts(Label l) {
            double tx = l.anchor.equals("middle") ? l.box.x() + l.box.w() / 2 : l.anchor.equals("start") ? l.box.x() + 1 : l.box.right() - 1;
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < l.lines.length; i++) {
                if (l.lines[i].isEmpty()) continue;
                sb.append(String.format(Locale.ROOT, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", l.classes[i], tx, l.box.y() + 10.5 + i * LINE,
                        l.anchor, esc(l.lines[i])));
            }
            return sb.toString();
        }

        /** The step axis above the lanes: each step's number over its columns, a bracket where a step has several. */
        private void axis(StringBuilder sb) {
            for (int k = 0; k < ev.size(); ) {
                int end = k;
                while (end + 1 < ev.size() && ev.get(end + 1).step() == ev.get(k).step() && !gapBefore[end + 1]) end++;
                double x1 = x[k], x2 = x[end];
                sb.append(String.format(Locale.ROOT, "<g class=\"tick\"><path d=\"M%.1f,%dL%.1f,%dL%.1f,%dL%.1f,%d\" fill=\"none\" stroke=\"#666\"/>"
                        + "<text class=\"axis\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text></g>%n",
                        x1 - 4, AXIS_H - 4, x1 - 4, AXIS_H - 8, x2 + 4, AXIS_H - 8, x2 + 4, AXIS_H - 4, (x1 + x2) / 2, AXIS_H - 14, step(ev.get(k).step())));
                k = end + 1;
            }
        }
    }

    /** The chain's clears of the violating IOVA that no INVALIDATE followed before the access. */
    private static List<Event> unpropagatedClears(List<Event> ev, Chain chain) {
        if (chain.access() == null || chain.access().iova() < 0) return List.of();
        int a = ev.indexOf(chain.access());
        long p = page(chain.access().iova());
        return chain.after().stream().filter(e -> isClear(e) && !invalidated(ev, ev.indexOf(e), a, p)).toList();
    }

    /** The lane names' column, drawn beside the events and kept in view while they scroll. */
    private static String laneNames(int height) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lane-names\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n",
                NAMES_W, height, NAMES_W, height));
        sb.append("<style>.lane{font:bold 12px sans-serif;fill:#333}.axis{font:10px monospace;fill:#333}</style>\n");
        sb.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", NAMES_W, height));
        sb.append(String.format(Locale.ROOT, "<text class=\"axis\" x=\"8\" y=\"%d\" style=\"font-weight:bold\">step</text>%n", AXIS_H - 14));
        for (int i = 0; i < LANES.length; i++) {
            int y = AXIS_H + i * LANE_H;
            sb.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n", y, NAMES_W, LANE_H, i % 2 == 0 ? "#f4f4f4" : "#ffffff"));
            sb.append(String.format(Locale.ROOT, "<text class=\"lane\" x=\"8\" y=\"%d\">%s</text>%n", y + LANE_H / 2 + 4, LANES[i]));
        }
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bbb\"/>%n", NAMES_W - 1, AXIS_H, NAMES_W - 1, height - 8));
        return sb.append("</svg>\n").toString();
    }

    /** The banner and the caption box, their lines wrapped to the box. */
    private static String head(String id, List<String[]> paragraphs, Violation v) {
        List<String> banner = wrap(banner(v), CAPTION_W, 14, true);
        List<String[]> lines = new ArrayList<>(); // heading (on a paragraph's first line) and text
        for (String[] para : paragraphs) {
            List<String> w = wrap(para[0] + ": " + para[1], CAPTION_W - 40, 12, false);
            // the heading is bold: wrap again if the first line would no longer fit
            if (textWidth(para[0] + ":", 12, false, true) - textWidth(para[0] + ":", 12, false, false) + textWidth(w.get(0), 12, false, false) > CAPTION_W - 40) {
                w = wrap(para[0] + ": " + para[1], CAPTION_W - 60, 12, true);
            }
            lines.add(new String[] {para[0] + ":", w.get(0).substring(para[0].length() + 1)});
            for (String more : w.subList(1, w.size())) lines.add(new String[] {"", more});
        }
        int bannerH = banner.size() * 19;
        int height = 8 + bannerH + (lines.isEmpty() ? 0 : 10 + lines.size() * 17 + 12) + 4;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s-head\" class=\"timeline-caption\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n",
                esc(id), CAPTION_W + 12, height, CAPTION_W + 12, height));
        sb.append("<style>.cap{font:12px sans-serif;fill:#222}.banner{font:bold 14px sans-serif}</style>\n");
        for (int i = 0; i < banner.size(); i++) {
            sb.append(String.format(Locale.ROOT, "<text class=\"banner\" x=\"4\" y=\"%d\" fill=\"%s\">%s</text>%n", 20 + i * 19, v == null ? "#2a7d2a" : RED, esc(banner.get(i))));
        }
        if (!lines.isEmpty()) {
            int top = 8 + bannerH + 6;
            sb.append(String.format(Locale.ROOT, "<g class=\"caption\"><rect x=\"4\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\" fill=\"#fff3f2\" stroke=\"%s\"/>%n",
                    top, CAPTION_W, lines.size() * 17 + 12, RED));
            int y = top + 20;
            for (String[] line : lines) {
                if (line[0].isEmpty()) sb.append(String.format(Locale.ROOT, "<text class=\"cap\" x=\"26\" y=\"%d\">%s</text>%n", y, esc(line[1])));
                else sb.append(String.format(Locale.ROOT, "<text class=\"cap\" x=\"14\" y=\"%d\"><tspan font-weight=\"bold\">%s</tspan>%s</text>%n", y, esc(line[0]), esc(line[1])));
                y += 17;
            }
            sb.append("</g>\n");
        }
        return sb.append("</svg>\n").toString();
    }

    /** The legend's entries; those for a violation are left out of a picture without a violating access. */
    private enum Key {
        EVENT("event"), CHAIN("causal chain of the violation"), ACCESS("the violating access"), MEMORY("guest page changes hands (memory lane)"),
        MESSAGE("cause → effect, same IOVA (MISS → read → UPDATE, call → INVALIDATE)"), STALE("stale translation used (from its UPDATE to the access)"),
        NO_INVALIDATE("clear with no INVALIDATE to vhost"), GAP("events left out");

        final String text;

        Key(String text) { this.text = text; }

        static List<Key> shown(boolean violation) {
            return violation ? List.of(values()) : List.of(EVENT, MEMORY, MESSAGE, GAP);
        }
    }

    /** The legend: one entry a row, its glyph and its words. */
    private static String legend(String id, List<Key> keys) {
        double textW = 0;
        for (Key k : keys) textW = Math.max(textW, textWidth(k.text, 11, false, false));
        int width = (int) Math.ceil(36 + textW + 6), height = keys.size() * 19 + 6;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s-legend\" class=\"timeline-legend\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n", esc(id), width, height, width, height));
        sb.append(String.format(Locale.ROOT, "<defs><marker id=\"%s-legend-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
                + "<path d=\"M0,0L10,5L0,10z\" fill=\"%s\"/></marker></defs>%n", esc(id), GREY));
        sb.append("<g class=\"legend\" style=\"font:11px sans-serif;fill:#222\">\n");
        for (int i = 0; i < keys.size(); i++) {
            int x = 4, y = 13 + i * 19;
            String glyph = switch (keys.get(i)) {
                case EVENT -> String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>", x + 12, y, BLUE);
                case MEMORY -> String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>", x + 6, y - 6, BLUE);
                case MESSAGE -> String.format(Locale.ROOT, "<path d=\"M%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"1.3\" marker-end=\"url(#%s-legend-arrow)\"/>", x, y, x + 24, y, GREY, esc(id));
                case GAP -> String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"22\" height=\"12\" fill=\"#ececec\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>", x + 1, y - 6);
                case CHAIN -> String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"7\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>", x + 12, y, ORANGE);
                case ACCESS -> String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"8\" fill=\"%s\" stroke=\"#222\" stroke-width=\"2.5\"/>", x + 12, y, RED);
                case STALE -> String.format(Locale.ROOT, "<path d=\"M%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"1.8\" stroke-dasharray=\"6 3\"/>", x, y, x + 24, y, RED);
                case NO_INVALIDATE -> String.format(Locale.ROOT, "<path d=\"M%d,%dL%d,%dM%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"2.5\"/>", x + 6, y - 6, x + 18, y + 6,
                        x + 6, y + 6, x + 18, y - 6, RED);
            };
            sb.append(glyph).append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", x + 32, y + 4, esc(keys.get(i).text)));
        }
        return sb.append("</g>\n</svg>\n").toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
