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
 * Draws a run's events as one SVG swimlane picture meant to be read as a still image: one lane per part of
 * the stack (guest vCPU, KVM, QEMU, vhost, device, memory), one column per event with a two-line label
 * (what happened; the iova and gpa involved), a step axis with the trace's step numbers, a gap marker
 * where events were left out, arrows for the messages the trace shows (vhost's MISS, QEMU reading it
 * and answering with UPDATE; a hypercall and the INVALIDATE it caused) and a legend.
 *
 * <p>With a violation it also draws a banner naming the broken property, a caption box saying in plain
 * words what was accessed, through which translation and what the guest's table held, the violation's
 * causal chain in orange (see {@link #causalChain}), the violating access in red, the stale translation
 * it used as a red dashed line, and a red cross where a clear reached vhost with no INVALIDATE.
 */
public final class Timeline {
    public static final String[] LANES = {"guest vCPU", "KVM", "QEMU", "vhost", "device", "memory"};
    private static final int VHOST_LANE = 3;
    private static final int MEMORY_LANE = 5;
    private static final int LANE_H = 92;
    private static final int COL_W = 64;
    private static final int GAP_W = 76;
    private static final int LEFT = 120;
    /** Room right of the last column: its label is centred on the mark and about 110 px wide. */
    private static final int RIGHT = 150;
    private static final int CAPTION_W = 800;
    private static final int WRAP = 118;
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

    /** The event of the violating access: the violating actor's event at the violation's step, on its IOVA page if one is. */
    static Event violating(List<Event> ev, Violation v) {
        if (v == null) return null;
        Event any = null;
        for (int i = ev.size() - 1; i >= 0; i--) {
            Event e = ev.get(i);
            if (e.step() != v.step() || !e.actor().equals(v.actor())) continue;
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
        return "VIOLATED: " + v.property().label() + " — " + v.why();
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

    /** Lines of at most {@code width} characters, broken at spaces. */
    static List<String> wrap(String s, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : s.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) line.append(' ');
            line.append(word);
        }
        if (line.length() > 0) lines.add(line.toString());
        return lines;
    }

    // ---- drawing --------------------------------------------------------------------------------

    /** Where things go: one x per event, the gap markers between them, and the top of each band. */
    /** A stretch of events left out: where its marker goes, and what it says ("… 5,000" over "steps …"). */
    private record Gap(int x, int w, String count, String unit) {}

    private record Layout(int[] x, List<Gap> gaps, int width, int captionTop, int legendTop, int axisTop, int top, int height) {
        int mid(int lane) {
            return top + lane * LANE_H + LANE_H / 2;
        }
    }

    /** What the picture draws for an event: its class ("" for an ordinary event, "chain", or "bad"). */
    private static String cls(Event e, Set<Event> chain, Event bad) {
        return e == bad ? "bad" : chain.contains(e) ? "chain" : "";
    }

    /**
     * The timeline of {@code events} (in trace order), with {@code v}'s causal chain highlighted when it is not null.
     * {@code id} is unique per page: the SVG's element ids start with it.
     */
    public static String svg(String id, List<Event> events, Violation v) {
        Ordered o = displayOrder(events);
        List<Event> ev = o.events();
        List<Link> links = links(o);
        Chain chain = chain(o, links, v);
        Set<Event> members = chain.members();
        List<CaptionLine> captionLines = new ArrayList<>();
        for (String[] para : v == null ? List.<String[]>of() : caption(o, links, v, chain)) {
            List<String> w = wrap(para[0] + ": " + para[1], WRAP);
            captionLines.add(new CaptionLine(para[0] + ":", w.get(0).substring(para[0].length() + 1)));
            for (String more : w.subList(1, w.size())) captionLines.add(new CaptionLine("", more));
        }
        Layout l = layout(ev, captionLines.size(), Key.shown(v != null));
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s-timeline\" class=\"timeline\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n",
                esc(id), l.width(), l.height(), l.width(), l.height()));
        sb.append("<style>.lane{font:bold 12px sans-serif;fill:#333}.l1{font:10.5px sans-serif;fill:#222}.l2{font:10px monospace;fill:#444}"
                + ".chain .l1,.chain .l2{fill:#8a4b00;font-weight:bold}.bad .l1,.bad .l2{fill:#d62728;font-weight:bold}.axis{font:10px monospace;fill:#333}"
                + ".gaptext{font:italic 10px sans-serif;fill:#444}.cap{font:12px sans-serif;fill:#222}.legend{font:11px sans-serif;fill:#222}"
                + ".banner{font:bold 14px sans-serif}.noinv{font:bold 10px sans-serif;fill:#d62728}</style>\n");
        sb.append(String.format(Locale.ROOT, "<defs><marker id=\"%1$s-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
                + "<path d=\"M0,0L10,5L0,10z\" fill=\"%2$s\"/></marker><marker id=\"%1$s-arrow-red\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                + "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"%3$s\"/></marker></defs>%n", esc(id), GREY, RED));
        lanes(sb, l);
        gaps(sb, l);
        axis(sb, ev, l);
        arrows(sb, id, ev, l, chain, links);
        Set<Event> unpropagated = new HashSet<>(unpropagatedClears(ev, chain));
        for (int k = 0; k < ev.size(); k++) {
            Event e = ev.get(k);
            String cls = cls(e, members, chain.access());
            // labels alternate above and below the marks; the access's and a cross-marked clear's go where no red line runs
            boolean above = cls.equals("bad") ? chain.update() != null && lane(chain.update()) > lane(e)
                    : unpropagated.contains(e) || k % 2 == 0;
            mark(sb, e, l.x()[k], l.mid(lane(e)), above, false, cls, cls.equals("bad") ? id + "-violation" : null, label(e));
            if (touchesMemory(e) && lane(e) != MEMORY_LANE) mark(sb, e, l.x()[k], l.mid(MEMORY_LANE), k % 2 == 0, true, cls, null, memoryLabel(e));
        }
        sb.append(String.format(Locale.ROOT, "<text class=\"banner\" x=\"8\" y=\"20\" fill=\"%s\">%s</text>%n", v == null ? "#2a7d2a" : RED, esc(banner(v))));
        if (!captionLines.isEmpty()) captionBox(sb, l, captionLines);
        legend(sb, id, l, Key.shown(v != null));
        return sb.append("</svg>\n").toString();
    }

    private static Layout layout(List<Event> ev, int captionLines, List<Key> legend) {
        int[] x = new int[ev.size()];
        List<Gap> gaps = new ArrayList<>();
        int at = LEFT + COL_W / 2;
        for (int k = 0; k < ev.size(); k++) {
            if (k > 0 && ev.get(k).seq() - ev.get(k - 1).seq() > 1) {
                long steps = ev.get(k).step() - ev.get(k - 1).step() - 1;
                long events = ev.get(k).seq() - ev.get(k - 1).seq() - 1;
                gaps.add(new Gap(at - COL_W / 2 + 6, GAP_W - 12, steps > 1 ? String.format(Locale.ROOT, "… %,d", steps) : String.format(Locale.ROOT, "… %,d", events),
                        steps > 1 ? "steps …" : events == 1 ? "event …" : "events …"));
                at += GAP_W;
            }
            x[k] = at;
            at += COL_W;
        }
        int width = Math.max(at - COL_W / 2 + RIGHT, CAPTION_W + 40);
        int captionTop = 32;
        int legendTop = captionTop + (captionLines == 0 ? 0 : captionLines * 17 + 22);
        int axisTop = legendTop + legendHeight(legend, width);
        int top = axisTop + 34;
        return new Layout(x, gaps, width, captionTop, legendTop, axisTop, top, top + LANES.length * LANE_H + 10);
    }

    private static void lanes(StringBuilder sb, Layout l) {
        for (int i = 0; i < LANES.length; i++) {
            int y = l.top() + i * LANE_H;
            sb.append(String.format(Locale.ROOT, "<rect class=\"lane-bg\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n", y, l.width(), LANE_H,
                    i % 2 == 0 ? "#f4f4f4" : "#ffffff"));
            sb.append(String.format(Locale.ROOT, "<text class=\"lane\" x=\"8\" y=\"%d\">%s</text>%n", y + LANE_H / 2 + 4, LANES[i]));
        }
        sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bbb\"/>%n", LEFT - 8, l.top(), LEFT - 8, l.height() - 10));
    }

    private static void gaps(StringBuilder sb, Layout l) {
        for (Gap g : l.gaps()) {
            sb.append(String.format(Locale.ROOT, "<g class=\"gap\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#ececec\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
                    + "<text class=\"gaptext\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text><text class=\"gaptext\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text></g>%n",
                    g.x(), l.axisTop() + 2, g.w(), l.height() - 10 - l.axisTop() - 2, g.x() + g.w() / 2, l.axisTop() + 14, esc(g.count()),
                    g.x() + g.w() / 2, l.axisTop() + 26, esc(g.unit())));
        }
    }

    /** The step axis above the lanes: each step's number over its events, a bracket where a step has several. */
    private static void axis(StringBuilder sb, List<Event> ev, Layout l) {
        int y = l.axisTop() + 28;
        sb.append(String.format(Locale.ROOT, "<text class=\"axis\" x=\"8\" y=\"%d\" style=\"font-weight:bold\">step</text>%n", y - 6));
        for (int k = 0; k < ev.size(); ) {
            int end = k;
            while (end + 1 < ev.size() && ev.get(end + 1).step() == ev.get(k).step() && l.x()[end + 1] - l.x()[end] == COL_W) end++;
            int x1 = l.x()[k], x2 = l.x()[end];
            sb.append(String.format(Locale.ROOT, "<g class=\"tick\"><path d=\"M%d,%dL%d,%dL%d,%dL%d,%d\" fill=\"none\" stroke=\"#666\"/>"
                    + "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text></g>%n",
                    x1 - 4, y + 4, x1 - 4, y, x2 + 4, y, x2 + 4, y + 4, (x1 + x2) / 2, y - 6, step(ev.get(k).step())));
            k = end + 1;
        }
    }

    /** One event's mark (a circle; a square for a page changing hands in the memory lane) with its label above or below. */
    private static void mark(StringBuilder sb, Event e, int x, int y, boolean above, boolean square, String cls, String elementId, String[] text) {
        int r = cls.equals("bad") ? 10 : cls.equals("chain") ? 7 : 6;
        String fill = cls.equals("bad") ? RED : cls.equals("chain") ? ORANGE : BLUE;
        sb.append("<g class=\"event").append(cls.isEmpty() ? "" : " " + cls).append(square ? " memory\"" : "\"");
        if (elementId != null) sb.append(" id=\"").append(esc(elementId)).append('"');
        sb.append(String.format(Locale.ROOT, "><title>step %d: %s %s: %s</title>", e.step(), esc(e.actor()), esc(e.action()), esc(e.detail())));
        if (square) {
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>", x - r, y - r, 2 * r, 2 * r, fill));
        } else {
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"%s\" stroke=\"#222\" stroke-width=\"%s\"/>", x, y, r, fill,
                    cls.equals("bad") ? "2.5" : "0.5"));
        }
        int y1 = above ? y - r - 17 : y + r + 12;
        sb.append(String.format(Locale.ROOT, "<text class=\"l1\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", x, y1, esc(text[0])));
        if (!text[1].isEmpty()) sb.append(String.format(Locale.ROOT, "<text class=\"l2\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", x, y1 + 12, esc(text[1])));
        sb.append("</g>\n");
    }

    /**
     * The message arrows, one per causal link (see {@link #links}): vhost's MISS to QEMU's read of it, that read to the
     * UPDATE answering it, a call to the INVALIDATE it caused; for a violation, the stale translation from its UPDATE to the access (red,
     * dashed) and a red cross in vhost's lane under each clear of the chain that no INVALIDATE followed.
     */
    private static void arrows(StringBuilder sb, String id, List<Event> ev, Layout l, Chain chain, List<Link> links) {
        for (Link link : links) {
            int from = ev.indexOf(link.from()), j = ev.indexOf(link.to());
            arrow(sb, id, l.x()[from], l.mid(lane(link.from())), l.x()[j], l.mid(lane(link.to())));
        }
        if (chain.access() == null) return;
        int a = ev.indexOf(chain.access());
        if (chain.update() != null) {
            int u = ev.indexOf(chain.update());
            int xu = l.x()[u], yu = l.mid(lane(chain.update())), xa = l.x()[a], ya = l.mid(lane(chain.access()));
            int yb = lane(chain.update()) == lane(chain.access()) ? yu - LANE_H / 2 + 3 : l.top() + Math.max(lane(chain.update()), lane(chain.access())) * LANE_H;
            sb.append(String.format(Locale.ROOT, "<path class=\"stale\" d=\"M%d,%dL%d,%dL%d,%dL%d,%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" stroke-dasharray=\"6 3\" "
                    + "marker-end=\"url(#%s-arrow-red)\"/>%n", xu, yu + (yb > yu ? 8 : -8), xu, yb, xa, yb, xa, ya + (ya > yb ? -11 : 11), RED, esc(id)));
        }
        for (Event e : unpropagatedClears(ev, chain)) {
            int c = ev.indexOf(e);
            int x = l.x()[c], y = l.mid(lane(e)), yv = l.mid(VHOST_LANE); // a clear is a vCPU's, in a lane above vhost's
            sb.append(String.format(Locale.ROOT, "<g class=\"no-invalidate\"><path d=\"M%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>"
                    + "<path d=\"M%d,%dL%d,%dM%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"2.5\"/><text class=\"noinv\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no INVALIDATE</text></g>%n",
                    x, y + 8, x, yv - 7, RED, x - 6, yv - 6, x + 6, yv + 6, x - 6, yv + 6, x + 6, yv - 6, RED, x, yv + 22));
        }
    }

    /** The chain's clears of the violating IOVA that no INVALIDATE followed before the access. */
    private static List<Event> unpropagatedClears(List<Event> ev, Chain chain) {
        if (chain.access() == null || chain.access().iova() < 0) return List.of();
        int a = ev.indexOf(chain.access());
        long p = page(chain.access().iova());
        return chain.after().stream().filter(e -> isClear(e) && !invalidated(ev, ev.indexOf(e), a, p)).toList();
    }

    private static void arrow(StringBuilder sb, String id, int x1, int y1, int x2, int y2) {
        String d;
        if (y1 == y2) {
            d = String.format(Locale.ROOT, "M%d,%dQ%d,%d %d,%d", x1 + 4, y1 - 7, (x1 + x2) / 2, y1 - 34, x2 - 4, y2 - 8);
        } else {
            double dx = x2 - x1, dy = y2 - y1, len = Math.hypot(dx, dy);
            d = String.format(Locale.ROOT, "M%.1f,%.1fL%.1f,%.1f", x1 + dx * 8 / len, y1 + dy * 8 / len, x2 - dx * 9 / len, y2 - dy * 9 / len);
        }
        sb.append(String.format(Locale.ROOT, "<path class=\"msg\" d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\" marker-end=\"url(#%s-arrow)\"/>%n", d, GREY, esc(id)));
    }

    /** A line of the caption box: a paragraph's heading (bold, on its first line only) and text. */
    private record CaptionLine(String heading, String text) {}

    private static void captionBox(StringBuilder sb, Layout l, List<CaptionLine> lines) {
        sb.append(String.format(Locale.ROOT, "<g class=\"caption\"><rect x=\"8\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\" fill=\"#fff3f2\" stroke=\"%s\"/>%n",
                l.captionTop(), CAPTION_W, lines.size() * 17 + 12, RED));
        int y = l.captionTop() + 20;
        for (CaptionLine line : lines) {
            if (line.heading().isEmpty()) {
                sb.append(String.format(Locale.ROOT, "<text class=\"cap\" x=\"30\" y=\"%d\">%s</text>%n", y, esc(line.text())));
            } else {
                sb.append(String.format(Locale.ROOT, "<text class=\"cap\" x=\"18\" y=\"%d\"><tspan font-weight=\"bold\">%s</tspan>%s</text>%n", y,
                        esc(line.heading()), esc(line.text())));
            }
            y += 17;
        }
        sb.append("</g>\n");
    }

    /** The legend's entries; those for a violation are left out of a picture without one. */
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

    /** The x of each legend entry and the row it goes in, flowing left to right within the caption's width. */
    private static int[][] legendPlaces(List<Key> keys, int width) {
        int[][] at = new int[keys.size()][];
        int x = 8, row = 0;
        for (int i = 0; i < keys.size(); i++) {
            int w = 48 + (int) Math.ceil(keys.get(i).text.length() * 6.2);
            if (x + w > Math.min(width, CAPTION_W + 8) && x > 8) {
                x = 8;
                row++;
            }
            at[i] = new int[] {x, row};
            x += w;
        }
        return at;
    }

    private static int legendHeight(List<Key> keys, int width) {
        int[][] at = legendPlaces(keys, width);
        return (at[at.length - 1][1] + 1) * 20 + 10;
    }

    private static void legend(StringBuilder sb, String id, Layout l, List<Key> keys) {
        int[][] at = legendPlaces(keys, l.width());
        sb.append("<g class=\"legend\">\n");
        for (int i = 0; i < keys.size(); i++) {
            int x = at[i][0], y = l.legendTop() + at[i][1] * 20 + 12;
            String glyph = switch (keys.get(i)) {
                case EVENT -> String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>", x + 10, y, BLUE);
                case MEMORY -> String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>", x + 4, y - 6, BLUE);
                case MESSAGE -> String.format(Locale.ROOT, "<path d=\"M%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"1.3\" marker-end=\"url(#%s-arrow)\"/>", x, y, x + 22, y, GREY, esc(id));
                case GAP -> String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"22\" height=\"12\" fill=\"#ececec\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>", x, y - 6);
                case CHAIN -> String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"7\" fill=\"%s\" stroke=\"#222\" stroke-width=\"0.5\"/>", x + 10, y, ORANGE);
                case ACCESS -> String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"8\" fill=\"%s\" stroke=\"#222\" stroke-width=\"2.5\"/>", x + 10, y, RED);
                case STALE -> String.format(Locale.ROOT, "<path d=\"M%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"1.8\" stroke-dasharray=\"6 3\"/>", x, y, x + 24, y, RED);
                case NO_INVALIDATE -> String.format(Locale.ROOT, "<path d=\"M%d,%dL%d,%dM%d,%dL%d,%d\" stroke=\"%s\" stroke-width=\"2.5\"/>", x + 4, y - 6, x + 16, y + 6,
                        x + 4, y + 6, x + 16, y - 6, RED);
            };
            sb.append(glyph).append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", x + 30, y + 4, esc(keys.get(i).text)));
        }
        sb.append("</g>\n");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
