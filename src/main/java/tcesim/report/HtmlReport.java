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
 * per unsafe design's counterexample and the cost model's table; the repro page draws one timeline; the designs page
 * draws the Pareto frontier, safety class by each cost, with the table of every design, its guests and what each design
 * on the frontier changes.
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

    /** A guest of the designs page: its name, its column's header, the flags of check that check a design against it, its properties and why. */
    public record Guest(String label, String column, String checkFlags, String properties, String why) {}

    /**
     * One design of the designs page: its verdict against each guest ("safe" or the label of the property broken), its
     * distinct states, its costs relative to D0, its safety class, whether it is on the frontier, and what it changes.
     */
    public record DesignRow(String design, String mechanisms, List<String> verdicts, long states, double throughput, double cpuPerPacket,
                            double latency, String safetyClass, boolean frontier, List<String> patches) {}

    /** A safety class, its verdict against each guest, and its designs on the frontier. */
    public record FrontierClass(String safetyClass, List<String> verdicts, List<DesignRow> designs) {}

    /**
     * The page of {@code tcesim designs}: the Pareto frontier drawn (safety class by each cost), the guests and how each
     * is checked, every design's verdicts and costs, and what each design on the frontier changes in Linux and QEMU.
     */
    public static String designs(List<Guest> guests, List<DesignRow> rows, List<FrontierClass> frontier, String baseline, CostModel model, String command) {
        StringBuilder sb = head("tcesim: designs, the safe and the cheap", ".frontier td{background:#eef3fa}.frontier-chart{display:block;margin:16px 0 28px}");
        sb.append("<h1>Designs: the safe and the cheap</h1>\n");
        sb.append("<p class=\"cmd\">").append(Timeline.esc(command)).append("</p>\n");
        sb.append("<p>").append(Timeline.esc(baseline)).append("</p>\n");
        List<String> properties = new ArrayList<>();
        for (FrontierClass c : frontier) for (String v : c.verdicts()) if (!v.equals("safe") && !properties.contains(v)) properties.add(v);
        sb.append("<section id=\"frontier\"><h2>Pareto frontier</h2>\n<p>Each row is a safety class, the class that keeps the most guests"
                + " first (of classes that keep as many, the fastest first); its squares, one per guest in the order of the columns' names, are blue where the class is safe against the guest and"
                + " striped in the colour of the property it breaks where it is not. Each mark is a design on the class's frontier (no design of"
                + " the class is as cheap on throughput, CPU per packet and RR latency at once with no more changed mechanisms), placed at one"
                + " cost per chart and striped in the colours of the properties its class breaks; a design safe against every guest is plain"
                + " blue. The dashed line is D0.</p>\n");
        sb.append(frontierChart("throughput", "Throughput relative to D0 (TCP_STREAM; higher is better)", guests, frontier, DesignRow::throughput, properties));
        sb.append(frontierChart("cpu", "CPU per packet relative to D0 (TCP_STREAM; lower is better)", guests, frontier, DesignRow::cpuPerPacket, properties));
        sb.append(frontierChart("latency", "RR transaction time relative to D0 (TCP_RR; lower is better)", guests, frontier, DesignRow::latency, properties));
        sb.append("</section>\n");
        sb.append("<section id=\"guests\"><h2>Guests</h2>\n<p>Each design D is checked against each guest as <code>./tcesim check --design D</code>"
                + " with the guest's flags, every interleaving of check's small configuration.</p>\n<table>\n"
                + "<tr><th>guest</th><th>flags of check</th><th>properties</th><th>how it is checked, and why</th></tr>\n");
        for (Guest g : guests) {
            sb.append("<tr><td>").append(Timeline.esc(g.label())).append("</td><td class=\"cmd\">").append(Timeline.esc(g.checkFlags().isEmpty() ? "-" : g.checkFlags()))
                    .append("</td><td>").append(Timeline.esc(g.properties())).append("</td><td>").append(Timeline.esc(g.why())).append("</td></tr>\n");
        }
        sb.append("</table></section>\n");
        sb.append("<section id=\"designs\"><h2>Every design</h2>\n<table>\n<tr><th>design</th><th>mechanisms</th>");
        for (Guest g : guests) sb.append("<th>").append(Timeline.esc(g.label())).append("</th>");
        sb.append("<th>distinct states</th><th>throughput (x D0)</th><th>CPU per packet (x D0)</th><th>RR latency (x D0)</th><th>on the frontier</th></tr>\n");
        for (DesignRow r : rows) {
            sb.append(r.frontier() ? "<tr class=\"frontier\">" : "<tr>").append("<td>").append(Timeline.esc(r.design())).append("</td><td>")
                    .append(Timeline.esc(r.mechanisms())).append("</td>");
            for (String v : r.verdicts()) sb.append("<td class=\"").append(v.equals("safe") ? "safe" : "unsafe").append("\">").append(Timeline.esc(v)).append("</td>");
            sb.append(String.format(Locale.ROOT, "<td>%d</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%s</td></tr>%n", r.states(), r.throughput(), r.cpuPerPacket(),
                    r.latency(), r.frontier() ? "yes" : "-"));
        }
        sb.append("</table></section>\n");
        sb.append("<section id=\"patches\"><h2>What the designs on the frontier change</h2>\n");
        List<String> described = new ArrayList<>();
        for (FrontierClass c : frontier) {
            for (DesignRow r : c.designs()) {
                if (described.contains(r.design())) continue;
                described.add(r.design());
                sb.append("<h3 id=\"patch-").append(Timeline.esc(r.design())).append("\">").append(Timeline.esc(r.design())).append(" <span class=\"cmd\">")
                        .append(Timeline.esc(r.mechanisms())).append("</span></h3>\n<ul>\n");
                for (String p : r.patches()) sb.append("<li>").append(Timeline.esc(p)).append("</li>\n");
                sb.append("</ul>\n");
            }
        }
        sb.append("</section>\n");
        sb.append(costTable(model));
        return sb.append("</body></html>\n").toString();
    }

    /** A box a chart has taken: a mark or a label, left, top, right, bottom. */
    private record Box(double x0, double y0, double x1, double y1) {
        boolean overlaps(Box o) {
            return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1;
        }
    }

    /**
     * One cost of the frontier drawn: a row per safety class (its verdict against each guest as a square under the
     * guest's name), and in it a mark per design on the class's frontier at its cost, labelled with its name. Within a
     * row a mark and its label go to the first lane, from the top, where neither covers another's, the label right of the
     * mark or, where it would run out of the chart or cover another, left of it. The legend says which stripes mean which
     * property; a mark is striped in the colour of each property its class breaks.
     */
    static String frontierChart(String id, String title, List<Guest> guests, List<FrontierClass> classes, java.util.function.ToDoubleFunction<DesignRow> value,
            List<String> properties) {
        final int w = 960, pitch = 18, square = 12, lane = 20, radius = 6;
        int px0 = guests.size() * pitch + 28, px1 = w - 24;
        // The axis spans D0 and every mark, from a tick to a tick at least 56 pixels apart.
        double lo = 1, hi = 1;
        for (FrontierClass c : classes) {
            for (DesignRow d : c.designs()) {
                double v = value.applyAsDouble(d);
                if (!Double.isFinite(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        double step = 0, xmin = 0, xmax = 0;
        for (double s : new double[] {0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 1000}) {
            step = s;
            xmin = Math.max(0, Math.floor(lo * 0.98 / s) * s);
            xmax = Math.ceil(hi * 1.02 / s) * s;
            if ((px1 - px0) * s / (xmax - xmin) >= 56) break;
        }
        final double from = xmin, scale = (px1 - px0) / (xmax - xmin);
        java.util.function.ToDoubleFunction<DesignRow> x = d -> {
            double v = value.applyAsDouble(d);
            return px0 + (Double.isFinite(v) ? v - from : 0) * scale;
        };
        double headerText = 0;
        for (Guest g : guests) headerText = Math.max(headerText, Timeline.textWidth(g.column(), 11, false, false));
        int headerBottom = 30 + (int) Math.ceil(headerText);
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < guests.size(); i++) {
            body.append(String.format(Locale.ROOT, "<text class=\"guest\" transform=\"translate(%d,%d) rotate(-90)\" style=\"font:11px sans-serif\">%s</text>",
                    i * pitch + pitch / 2 + 4, headerBottom, Timeline.esc(guests.get(i).column())));
        }
        body.append('\n');
        int top = headerBottom + 8;
        int rowsTop = top;
        int mark = 0;
        StringBuilder rows = new StringBuilder();
        for (int k = 0; k < classes.size(); k++) {
            FrontierClass c = classes.get(k);
            List<String> broken = new ArrayList<>();
            for (String p : properties) if (c.verdicts().contains(p)) broken.add(p);
            String fill = broken.isEmpty() ? SAFE_BLUE : "url(#" + id + "-class-" + k + ")";
            String stroke = broken.isEmpty() ? "#2b4f7a" : colour(properties.indexOf(broken.get(0)));
            rows.append(String.format(Locale.ROOT, "<g class=\"class-row\"><title>%s</title><line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>",
                    Timeline.esc(c.safetyClass()), top, w, top));
            for (int i = 0; i < guests.size(); i++) {
                String v = c.verdicts().get(i);
                String sq = v.equals("safe") ? SAFE_BLUE : "url(#" + id + "-unsafe-" + properties.indexOf(v) + ")";
                rows.append(String.format(Locale.ROOT, "<rect class=\"verdict\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s: %s</title></rect>",
                        i * pitch + (pitch - square) / 2 + 2, top + 4 + (lane - square) / 2, square, square, sq, Timeline.esc(guests.get(i).label()), Timeline.esc(v)));
            }
            List<Box> taken = new ArrayList<>();
            int lanes = 1;
            List<DesignRow> ds = new ArrayList<>(c.designs());
            ds.sort(java.util.Comparator.comparingDouble(value).thenComparing(DesignRow::design));
            for (DesignRow d : ds) {
                double mx = x.applyAsDouble(d);
                double tw = Timeline.textWidth(d.design(), 12, false, false);
                // the sides where the label stays in the chart (a label too long for either goes where there is more room)
                boolean right = mx + radius + 4 + tw <= w, left = mx - radius - 4 - tw >= px0;
                if (!right && !left) {
                    right = w - mx >= mx - px0;
                    left = !right;
                }
                Box at = null, label = null;
                int l = 0;
                for (; at == null; l++) {
                    double cy = top + 4 + l * lane + lane / 2.0;
                    Box m = new Box(mx - radius - 1, cy - radius - 1, mx + radius + 1, cy + radius + 1);
                    Box r = new Box(mx + radius + 4, cy - 8, mx + radius + 4 + tw, cy + 8), lf = new Box(mx - radius - 4 - tw, cy - 8, mx - radius - 4, cy + 8);
                    for (Box t : right && left ? new Box[] {r, lf} : right ? new Box[] {r} : new Box[] {lf}) {
                        if (taken.stream().anyMatch(b -> b.overlaps(m) || b.overlaps(t))) continue;
                        at = m;
                        label = t;
                        break;
                    }
                }
                lanes = Math.max(lanes, l);
                taken.add(at);
                taken.add(label);
                double cy = (at.y0() + at.y1()) / 2;
                rows.append(String.format(Locale.ROOT, "<g class=\"mark\" id=\"%s-mark-%d\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>"
                        + "<title>%s: %.2fx D0; %s</title></g><text class=\"mark-label\" x=\"%.1f\" y=\"%.1f\" style=\"font:12px sans-serif;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round\">%s</text>",
                        id, mark++, mx, cy, radius, fill, stroke, Timeline.esc(d.design()), value.applyAsDouble(d), Timeline.esc(c.safetyClass()), label.x0() + 1, cy + 4,
                        Timeline.esc(d.design())));
            }
            rows.append("</g>\n");
            top += 8 + lanes * lane;
        }
        int axis = top + 2;
        double d0 = px0 + (1 - from) * scale;
        // D0's line under the rows: a label it crosses is drawn over it, on its white outline
        body.append(String.format(Locale.ROOT, "<line class=\"d0\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>"
                + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" style=\"font:11px sans-serif\">D0</text>%n", d0, rowsTop, d0, axis, d0, rowsTop - 4));
        body.append(rows);
        body.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>", px0, axis, px1, axis));
        String fmt = step == 0.25 ? "%.2fx" : step < 1 ? "%.1fx" : "%.0fx";
        for (int i = 0; from + i * step <= xmax + 1e-9; i++) {
            double tx = px0 + i * step * scale;
            body.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/><text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" style=\"font:12px sans-serif\">%s</text>",
                    tx, axis, tx, axis + 4, tx, axis + 17, String.format(Locale.ROOT, fmt, from + i * step)));
        }
        body.append('\n');
        List<String> keys = new ArrayList<>(List.of("safe"));
        for (String p : properties) keys.add("unsafe: " + p);
        List<int[]> at = flow(keys, w);
        int legendTop = axis + 28;
        int h = legendTop + (at.get(at.size() - 1)[1] + 1) * 20;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s-frontier\" class=\"frontier-chart\" width=\"%d\" height=\"%d\"><text x=\"0\" y=\"16\" style=\"font:bold 13px sans-serif\">%s</text>%n",
                id, w, h, Timeline.esc(title)));
        sb.append("<defs>");
        for (int i = 0; i < properties.size(); i++) sb.append(stripes(id + "-unsafe-" + i, List.of(colour(i))));
        for (int k = 0; k < classes.size(); k++) {
            List<String> colours = new ArrayList<>();
            for (int i = 0; i < properties.size(); i++) if (classes.get(k).verdicts().contains(properties.get(i))) colours.add(colour(i));
            if (!colours.isEmpty()) sb.append(stripes(id + "-class-" + k, colours));
        }
        sb.append("</defs>\n").append(body);
        return sb.append(legend(id, keys, at, legendTop)).append("</svg>\n").toString();
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
        List<int[]> at = flow(keys, w);
        int barsBottom = 26 + labels.length * (barH + 6);
        int h = barsBottom + 8 + (at.get(at.size() - 1)[1] + 1) * 20;
        double max = 0;
        for (double v : values) max = Math.max(max, v);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s-chart\" class=\"bars\" width=\"%d\" height=\"%d\"><text x=\"0\" y=\"16\" style=\"font:bold 13px sans-serif\">%s</text>%n",
                id, w, h, Timeline.esc(title)));
        sb.append("<defs>");
        for (int i = 0; i < properties.size(); i++) sb.append(stripes(id + "-unsafe-" + i, List.of(colour(i))));
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
        return sb.append(legend(id, keys, at, barsBottom + 8)).append("</svg>\n").toString();
    }

    /** A legend's entries flowing left to right in {@code w} pixels: each entry's x and row. */
    private static List<int[]> flow(List<String> keys, int w) {
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
        return at;
    }

    /**
     * The legend of chart {@code id} at {@code top}: "safe" in blue, then each "unsafe: PROPERTY" in the stripes of the
     * chart's pattern {@code ID-unsafe-I}, at the places {@link #flow} gave.
     */
    private static String legend(String id, List<String> keys, List<int[]> at, int top) {
        StringBuilder sb = new StringBuilder("<g class=\"chart-legend\">");
        for (int i = 0; i < keys.size(); i++) {
            int kx = at.get(i)[0], ky = top + at.get(i)[1] * 20;
            String fill = i == 0 ? SAFE_BLUE : "url(#" + id + "-unsafe-" + (i - 1) + ")";
            String stroke = i == 0 ? "" : String.format(Locale.ROOT, " stroke=\"%s\" stroke-width=\"1.5\"", colour(i - 1));
            sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"12\" fill=\"%s\"%s/><text x=\"%d\" y=\"%d\" style=\"font:12px sans-serif\">%s</text>",
                    kx + 1, ky, fill, stroke, kx + 26, ky + 11, Timeline.esc(keys.get(i))));
        }
        return sb.append("</g>\n").toString();
    }

    /** A striped fill {@code id}: a stripe of each colour in turn over the safe blue (one colour: compare's stripes). */
    private static String stripes(String id, List<String> colours) {
        int n = colours.size();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "<pattern id=\"%s\" width=\"%d\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                + "<rect width=\"%d\" height=\"8\" fill=\"%s\"/>", id, 8 * n, 8 * n, SAFE_BLUE));
        for (int i = 0; i < n; i++) sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" width=\"4\" height=\"8\" fill=\"%s\"/>", 8 * i, colours.get(i)));
        return sb.append("</pattern>").toString();
    }

    private static String colour(int property) {
        return UNSAFE_COLOURS[property % UNSAFE_COLOURS.length];
    }

    private static StringBuilder head(String title) {
        return head(title, "");
    }

    /** The page's head with {@code css} after the pages' own style. */
    private static StringBuilder head(String title, String css) {
        return new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>").append(Timeline.esc(title))
                .append("</title>\n<style>body{font:14px sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}"
                        + "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eee}"
                        + ".safe{color:#2a7d2a;font-weight:bold}.unsafe{color:#d62728;font-weight:bold}.cmd{font:12px monospace;color:#555}"
                        + ".overridden td{background:#fff6d5}" + Timeline.CSS + css + "</style></head><body>\n");
    }
}
