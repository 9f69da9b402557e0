package tcesim.report;

import java.util.List;
import java.util.Locale;
import tcesim.sim.Event;
import tcesim.sim.Violation;

/**
 * A swimlane picture of a run's events as SVG: one lane per part of the stack (guest vCPU, KVM, QEMU,
 * vhost, device, memory), time running left to right one event per column. Events on the violating IOVA or
 * page are drawn in orange, the offending access in red.
 */
public final class Timeline {
    public static final String[] LANES = {"guest vCPU", "KVM", "QEMU", "vhost", "device", "memory"};
    private static final int LANE_H = 56;
    private static final int COL_W = 34;
    private static final int LEFT = 110;
    private static final int TOP = 44;

    private Timeline() {}

    /** The lane an event belongs to. */
    static int lane(Event e) {
        String a = e.actor();
        if (a.startsWith("vcpu")) {
            if (e.detail().endsWith("[QEMU]")) return 2;
            if (e.detail().endsWith("[real mode]") || e.detail().endsWith("[virtual mode]")) return 1;
            if (e.action().equals("kernel-alloc")) return 5;
            return 0;
        }
        if (a.equals("kvm")) return 1;
        if (a.equals("qemu")) return 2;
        if (a.equals("vhost")) return 3;
        if (a.equals("vfio-dev") || a.equals("net")) return 4;
        return 5;
    }

    /** Whether an event also marks a change of a guest page's owner (drawn again in the memory lane). */
    static boolean touchesMemory(Event e) {
        return e.gpa() >= 0 && (e.action().endsWith("reap") || e.action().equals("rx-revoke") || e.action().equals("rx-refill")
                || e.action().equals("tx-send") || e.action().equals("pt-refill"));
    }

    public static String svg(List<Event> events, Violation v) {
        int n = events.size();
        int width = LEFT + Math.max(1, n) * COL_W + 40;
        int height = TOP + LANES.length * LANE_H + 30;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">%n",
                width, height, width, height));
        sb.append("<style>.lane{font:12px sans-serif;fill:#333}.ev{font:9px monospace;fill:#222}.hl{fill:#f39c12}.bad{fill:#d62728}</style>\n");
        for (int i = 0; i < LANES.length; i++) {
            int y = TOP + i * LANE_H;
            sb.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n", y, width, LANE_H, i % 2 == 0 ? "#f7f7f7" : "#ffffff"));
            sb.append(String.format(Locale.ROOT, "<text class=\"lane\" x=\"6\" y=\"%d\">%s</text>%n", y + LANE_H / 2 + 4, LANES[i]));
        }
        long iovaPage = v == null || v.iova() < 0 ? -2 : v.iova() >>> 12;
        long gpaPage = v == null || v.gpa() < 0 ? -2 : v.gpa() >>> 12;
        for (int k = 0; k < n; k++) {
            Event e = events.get(k);
            boolean offending = v != null && k == n - 1 && e.actor().equals(v.actor());
            boolean related = (e.iova() >= 0 && e.iova() >>> 12 == iovaPage) || (e.gpa() >= 0 && e.gpa() >>> 12 == gpaPage);
            String cls = offending ? "bad" : related ? "hl" : "";
            int x = LEFT + k * COL_W + COL_W / 2;
            drawEvent(sb, e, lane(e), x, k, cls);
            if (touchesMemory(e) && lane(e) != 5) drawEvent(sb, e, 5, x, k, related ? "hl" : "");
        }
        if (v != null) {
            sb.append(String.format(Locale.ROOT, "<text class=\"bad\" x=\"%d\" y=\"16\" style=\"font:bold 12px sans-serif\">%s: %s</text>%n",
                    LEFT, esc(v.property().label().toUpperCase(Locale.ROOT)), esc(v.why())));
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static void drawEvent(StringBuilder sb, Event e, int lane, int x, int k, String cls) {
        int y = TOP + lane * LANE_H + LANE_H / 2;
        String fill = cls.equals("bad") ? "#d62728" : cls.equals("hl") ? "#f39c12" : "#4c78a8";
        sb.append(String.format(Locale.ROOT, "<g class=\"event %s\"><title>%d. %s %s: %s</title>", cls, k + 1, esc(e.actor()), esc(e.action()), esc(e.detail())));
        sb.append(String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"%d\" fill=\"%s\" stroke=\"#222\" stroke-width=\"%s\"/>", x, y,
                cls.equals("bad") ? 9 : 6, fill, cls.equals("bad") ? "2.5" : "0.5"));
        sb.append(String.format(Locale.ROOT, "<text class=\"ev\" x=\"%d\" y=\"%d\" transform=\"rotate(-35 %d %d)\">%s</text></g>%n", x + 6, y - 9, x + 6, y - 9,
                esc(shortLabel(e))));
    }

    static String shortLabel(Event e) {
        String a = e.action();
        if (a.startsWith("H_")) return a.replace("H_", "") + (e.iova() >= 0 ? String.format(Locale.ROOT, " %x", e.iova()) : "");
        return e.iova() >= 0 ? a + String.format(Locale.ROOT, " %x", e.iova()) : a;
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
