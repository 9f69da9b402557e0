package tcesim.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import tcesim.sim.CostModel;
import tcesim.sim.Event;
import tcesim.sim.Trace;
import tcesim.sim.Violation;

/**
 * Self-contained XHTML pages (inline CSS, SVG and a short script that opens each timeline at its violation; nothing
 * fetched) for people to look at. The compare page
 * draws the verdict x cost table, bar charts of throughput and of exits per packet, one {@link Timeline}
 * per unsafe design's counterexample and the cost model's table; the repro page draws one timeline.
 */
public final class HtmlReport {
    private HtmlReport() {}

    /** One design's line of the comparison. */
    public record Row(String design, String summary, String verdict, String property, CostSummary stream, CostSummary rr) {}

    /** A counterexample to draw. */
    public record Counterexample(String design, Violation violation, List<Event> events, String replay) {}

    /** A figure for a table cell, or "-" where it does not apply. */
    private static String cell(boolean applies, String format, double x) {
        return applies ? String.format(Locale.ROOT, format, x) : "-";
    }

    public static String compare(List<Row> rows, CostModel model, List<Counterexample> unsafe, String command) {
        StringBuilder sb = head("tcesim: invalidation designs compared");
        sb.append("<h1>Invalidation designs: safety and cost</h1>\n");
        sb.append("<p class=\"cmd\">").append(Timeline.esc(command)).append("</p>\n");
        sb.append("<section id=\"verdicts\"><h2>Verdict and cost</h2>\n<table>\n<tr><th>design</th><th>what it changes</th><th>verdict (exhaustive check)</th>"
                + "<th>TCP_STREAM Gbit/s</th><th>exits / packet</th><th>hypercalls real / virtual / QEMU</th><th>IOTLB hits / misses / evictions</th>"
                + "<th>invalidations</th><th>tce_kills</th><th>CPU ns / packet (STREAM)</th><th>RX latency \u00b5s (STREAM)</th><th>TCP_RR transaction \u00b5s</th>"
                + "<th>busiest thread</th></tr>\n");
        for (Row r : rows) {
            CostSummary s = r.stream();
            // As the text table: a plain number, "-" where the figure does not apply (no simulated time, nothing measured).
            sb.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td class=\"%s\">%s</td><td>%s</td><td>%s</td><td>%d / %d / %d</td><td>%d / %d / %d</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>%n",
                    r.design(), Timeline.esc(r.summary()), r.verdict().equals("safe") ? "safe" : "unsafe",
                    Timeline.esc(r.verdict() + (r.property() == null ? "" : ": " + r.property())), cell(s.timed(), "%.2f", s.gbps()),
                    cell(s.packets() > 0, "%.3f", s.exitsPerPacket()),
                    s.hcallsReal(), s.hcallsVirtual(), s.hcallsQemu(), s.iotlbHits(), s.iotlbMisses(), s.iotlbEvictions(), s.invalidations(), s.tceKills(),
                    cell(s.packets() > 0, "%.0f", s.cpuNsPerPacket()), cell(s.rxLatencyNs() > 0, "%.1f", s.rxLatencyNs() / 1000),
                    cell(r.rr().transactionNs() > 0, "%.1f", r.rr().transactionNs() / 1000), s.bottleneck() == null ? "-" : Timeline.esc(s.bottleneck())));
        }
        sb.append("</table></section>\n");
        sb.append("<section id=\"charts\"><h2>Throughput and exits</h2>\n");
        String[] labels = rows.stream().map(Row::design).toArray(String[]::new);
        String[] broken = rows.stream().map(r -> r.verdict().equals("unsafe") ? r.property() : null).toArray(String[]::new);
        sb.append(bars("throughput", "Simulated TCP_STREAM throughput (Gbit/s)", labels, rows.stream().mapToDouble(r -> r.stream().gbps()).toArray(), "%.2f", broken));
        sb.append(bars("exits", "Exits to QEMU per packet (TCP_STREAM)", labels, rows.stream().mapToDouble(r -> r.stream().exitsPerPacket()).toArray(), "%.3f", broken));
        sb.append("</section>\n");
        sb.append("<section id=\"timelines\"><h2>Counterexamples</h2>\n");
        if (unsafe.isEmpty()) sb.append("<p>No design is unsafe on the checked configuration.</p>\n");
        for (Counterexample c : unsafe) {
            sb.append("<h3 id=\"").append(Timeline.esc(c.design())).append("\">").append(Timeline.esc(c.design())).append(": ")
                    .append(Timeline.esc(c.violation().property().label())).append(" found</h3>\n");
            sb.append(Timeline.html(c.design(), c.events(), c.violation()));
            sb.append("<p class=\"cmd\">").append(Timeline.esc(c.replay())).append("</p>\n");
        }
        sb.append("</section>\n");
        sb.append(costTable(model));
        return sb.append(Timeline.SCRIPT).append("</body></html>\n").toString();
    }

    public static String repro(String title, Violation v, List<Event> events, String replay) {
        StringBuilder sb = head("tcesim: " + title);
        sb.append("<h1>").append(Timeline.esc(title)).append("</h1>\n");
        sb.append("<section id=\"timelines\">\n");
        if (v == null) sb.append("<p>No property broken.</p>\n");
        sb.append(Timeline.html("repro", events, v));
        sb.append("<p class=\"cmd\">").append(Timeline.esc(replay)).append("</p>\n</section>\n");
        return sb.append(Timeline.SCRIPT).append("</body></html>\n").toString();
    }

    /**
     * The repro page's events: the violating IOVA's history, the violation's causal chain (which may reach
     * back into the guest page's history) and the last events before the end; the timeline marks the rest as left out.
     */
    public static List<Event> reproEvents(Trace trace, Violation v) {
        TreeMap<Long, Event> picked = new TreeMap<>();
        List<Event> recent = trace.recent();
        for (Event e : recent.subList(Math.max(0, recent.size() - (v == null ? 40 : 12)), recent.size())) picked.put(e.seq(), e);
        if (v != null) {
            TreeMap<Long, Event> known = new TreeMap<>();
            for (Event e : recent) known.put(e.seq(), e);
            if (v.iova() >= 0) for (Event e : trace.historyOfIova(v.iova())) {
                known.put(e.seq(), e);
                picked.put(e.seq(), e);
            }
            if (v.gpa() >= 0) for (Event e : trace.historyOfGpa(v.gpa())) known.put(e.seq(), e);
            for (Event e : Timeline.causalChain(new ArrayList<>(known.values()), v)) picked.put(e.seq(), e);
        }
        return new ArrayList<>(picked.values());
    }

    /** The cost parameters; one the user set to another value than its default cites the user, not the default's source. */
    static String costTable(CostModel model) {
        StringBuilder sb = new StringBuilder("<section id=\"costs\"><h2>Cost model</h2>\n<table>\n<tr><th>parameter</th><th>value</th><th>unit</th><th>source</th></tr>\n");
        CostModel.PARAMS.forEach((k, p) -> {
            boolean overridden = model.get(k) != p.defaultNs();
            String source = overridden ? "overridden by the user (default " + trim(p.defaultNs()) + ")" : p.source();
            sb.append(String.format(Locale.ROOT, "<tr%s><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>%n", overridden ? " class=\"overridden\"" : "",
                    k, trim(model.get(k)), Timeline.esc(p.unit()), Timeline.esc(source)));
        });
        return sb.append("</table></section>\n").toString();
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    /** The stripes of an unsafe design's bar, one colour per property broken (in the order the rows first break them). */
    private static final String[] UNSAFE_COLOURS = {"#d62728", "#9467bd", "#8c564b", "#e377c2"};
    private static final String SAFE_BLUE = "#4c78a8";

    /**
     * A horizontal bar chart, one bar per label. A design whose exhaustive check broke a property ({@code broken[i]}
     * names it; null for one that did not) has its bar striped in that property's colour over the blue, and the
     * legend under the chart says which stripes mean "unsafe: PROPERTY".
     */
    static String bars(String id, String title, String[] labels, double[] values, String fmt, String[] broken) {
        int w = 640, barH = 22, left = 70;
        List<String> properties = new ArrayList<>();
        for (String p : broken) if (p != null && !properties.contains(p)) properties.add(p);
        // the legend's entries, flowing left to right: safe, then one per property broken
        List<String> keys = new ArrayList<>(List.of("safe"));
        for (String p : properties) keys.add("unsafe: " + p);
        List<int[]> at = new ArrayList<>();
        int x = 0, row = 0;
        for (String k : keys) {
            int kw = 26 + (int) Math.ceil(Timeline.textWidth(k, 12, false, false)) + 16;
            if (x > 0 && x + kw > w) {
                x = 0;
                row++;
            }
            at.add(new int[] {x, row});
            x += kw;
        }
        int barsBottom = 26 + labels.length * (barH + 6);
        int h = barsBottom + 8 + (row + 1) * 20;
        double max = 0;
        for (double v : values) max = Math.max(max, v);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s-chart\" class=\"bars\" width=\"%d\" height=\"%d\"><text x=\"0\" y=\"16\" style=\"font:bold 13px sans-serif\">%s</text>%n",
                id, w, h, Timeline.esc(title)));
        sb.append("<defs>");
        for (int i = 0; i < properties.size(); i++) {
            sb.append(String.format(Locale.ROOT, "<pattern id=\"%s-unsafe-%d\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                    + "<rect width=\"8\" height=\"8\" fill=\"%s\"/><rect width=\"4\" height=\"8\" fill=\"%s\"/></pattern>", id, i, SAFE_BLUE, colour(i)));
        }
        sb.append("</defs>\n");
        for (int i = 0; i < labels.length; i++) {
            int y = 26 + i * (barH + 6);
            int len = max == 0 ? 0 : (int) Math.round((w - left - 90) * values[i] / max);
            int p = broken[i] == null ? -1 : properties.indexOf(broken[i]);
            String fill = p < 0 ? SAFE_BLUE : "url(#" + id + "-unsafe-" + p + ")";
            String extra = p < 0 ? "" : String.format(Locale.ROOT, " stroke=\"%s\" stroke-width=\"1.5\"", colour(p));
            sb.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\" %s>%s</text><rect class=\"bar%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"%s>"
                    + "<title>%s</title></rect><text x=\"%d\" y=\"%d\" style=\"font:12px sans-serif\">%s</text>%n",
                    y + 15, p < 0 ? "style=\"font:12px sans-serif\"" : "style=\"font:bold 12px sans-serif\" fill=\"" + colour(p) + "\"", Timeline.esc(labels[i]), p < 0 ? "" : " unsafe", left, y, Math.max(1, len), barH, fill, extra,
                    Timeline.esc(labels[i] + (p < 0 ? "" : ": unsafe: " + broken[i])), left + len + 6, y + 15, String.format(Locale.ROOT, fmt, values[i])));
        }
        sb.append("<g class=\"chart-legend\">");
        for (int i = 0; i < keys.size(); i++) {
            int kx = at.get(i)[0], ky = barsBottom + 8 + at.get(i)[1] * 20;
            String fill = i == 0 ? SAFE_BLUE : "url(#" + id + "-unsafe-" + (i - 1) + ")";
            String stroke = i == 0 ? "" : String.format(Locale.ROOT, " stroke=\"%s\" stroke-width=\"1.5\"", colour(i - 1));
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"12\" fill=\"%s\"%s/><text x=\"%d\" y=\"%d\" style=\"font:12px sans-serif\">%s</text>",
                    kx + 1, ky, fill, stroke, kx + 26, ky + 11, Timeline.esc(keys.get(i))));
        }
        return sb.append("</g>\n</svg>\n").toString();
    }

    private static String colour(int property) {
        return UNSAFE_COLOURS[property % UNSAFE_COLOURS.length];
    }

    private static StringBuilder head(String title) {
        return new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>").append(Timeline.esc(title))
                .append("</title>\n<style>body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}"
                        + "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eee}"
                        + ".safe{color:#2a7d2a;font-weight:bold}.unsafe{color:#d62728;font-weight:bold}.cmd{font:12px monospace;color:#555}"
                        + ".overridden td{background:#fff6d5}" + Timeline.CSS + "</style></head><body>\n");
    }
}
