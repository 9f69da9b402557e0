package tcesim.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import tcesim.guest.FirmwareFeatures;
import tcesim.kvm.HostCaps;
import tcesim.sim.Design;
import tcesim.sim.Mechanisms;
import tcesim.sim.StackConfig;

/**
 * A scenario file: a whole configuration in YAML (or JSON, which is YAML too), every field checked, any
 * unknown key rejected, each problem reported with its file, line and dotted field name.
 *
 * <pre>
 * design: D0                 # D0 D1 D2 D3a D3b D4 D4k V, mechanisms joined by '+' (D4+drop-late-update), or a map:
 *                            #   {table: kvm|qemu, clear: none|stuff-exit|every-exit|eventfd|eventfd-ack|link|link-kill,
 *                            #    vhost: today|drop-late-update|single-miss|both, answer: rw|tce-perm}
 * host: powernv              # powernv powernv8 nested no_vfio_tce no_kvm_tce
 * host_kernel: 2019          # 2019, 2022 or current
 * qemu: 4.2                  # 4.2, 5.2, 6.0-dev or current
 * seed: 1
 * hazard: window-removal     # optional: one of the hazards next to the seed's bug
 * window_kib: 1048576        # default DMA window, a power of two, 64 KiB .. 1 TiB
 * guest:
 *   vcpus: 1
 *   ram_mib: 256
 *   stuff_tce: true
 *   put_tce_indirect: true
 *   ddw: false
 *   clear_on_unmap: true
 *   kernel_churn: true
 *   rx_revokes: 0
 *   page_kib: 64             # the guest kernel's page size: 64 or 4
 *   rx_buffers: mergeable    # mergeable (page_frag slices) or page (a whole page each)
 *   hostile: false           # may make one call of a small adversarial set of TCE hypercalls
 * vhost:
 *   max_iotlb_entries: 32768
 * workload:
 *   rx_packets: 5000
 *   tx_packets: 5000
 *   packet_bytes: 1500
 *   ring_size: 256
 *   passthrough_packets: 0
 *   disk_requests: 0
 * </pre>
 */
public final class Scenario {
    /** A scenario that cannot be used; the message names the file, line and field. */
    public static final class Invalid extends Exception {
        private static final long serialVersionUID = 1L;

        Invalid(String message) { super(message); }
    }

    /**
     * The config, the seed and the hazard (already applied to the config; null for none) a scenario gives, and the
     * config without the hazard (for a command line that names another hazard, or none).
     */
    public record Loaded(StackConfig config, Long seed, tcesim.sim.Hazard hazard, StackConfig withoutHazard) {}

    /** A key's type; WORD is a name or a number (an era: 2019, 2022 or current; a QEMU release: 4.2, 5.2, 6.0-dev or current). */
    private enum Type { INT, BOOL, STRING, WORD }

    /** Every key, its type, and for numbers the allowed range. */
    private static final Map<String, Object[]> KEYS = new LinkedHashMap<>();

    private static void key(String path, Type t, long min, long max) {
        KEYS.put(path, new Object[] {t, min, max});
    }

    static {
        key("design", Type.STRING, 0, 0);
        key("design.table", Type.STRING, 0, 0);
        key("design.clear", Type.STRING, 0, 0);
        key("design.vhost", Type.STRING, 0, 0);
        key("design.answer", Type.STRING, 0, 0);
        key("host", Type.STRING, 0, 0);
        key("host_kernel", Type.WORD, 0, 0);
        key("qemu", Type.WORD, 0, 0);
        key("seed", Type.INT, 0, Long.MAX_VALUE);
        key("hazard", Type.STRING, 0, 0);
        key("window_kib", Type.INT, 64, 1L << 30);
        key("guest", null, 0, 0);
        key("guest.vcpus", Type.INT, 1, 8);
        key("guest.ram_mib", Type.INT, 16, 64 * 1024);
        key("guest.stuff_tce", Type.BOOL, 0, 0);
        key("guest.put_tce_indirect", Type.BOOL, 0, 0);
        key("guest.ddw", Type.BOOL, 0, 0);
        key("guest.clear_on_unmap", Type.BOOL, 0, 0);
        key("guest.kernel_churn", Type.BOOL, 0, 0);
        key("guest.rx_revokes", Type.INT, 0, 1_000_000);
        key("guest.ddw_removal", Type.STRING, 0, 0);
        key("guest.page_kib", Type.INT, 4, 64);
        key("guest.hostile", Type.BOOL, 0, 0);
        key("guest.rx_buffers", Type.STRING, 0, 0);
        key("vhost", null, 0, 0);
        key("vhost.max_iotlb_entries", Type.INT, 1, 1 << 24);
        key("workload", null, 0, 0);
        key("workload.rx_packets", Type.INT, 0, 1L << 40);
        key("workload.tx_packets", Type.INT, 0, 1L << 40);
        key("workload.packet_bytes", Type.INT, 64, 4096);
        key("workload.ring_size", Type.INT, 2, 4096);
        key("workload.passthrough_packets", Type.INT, 0, 1L << 40);
        key("workload.request_response", Type.BOOL, 0, 0);
        key("workload.disk_requests", Type.INT, 0, 1L << 40);
    }

    /** Where StackConfig's own range checks land in a scenario file. */
    private static final Map<String, String> FIELD_OF = Map.ofEntries(
            Map.entry("vcpus", "guest.vcpus"),
            Map.entry("ramBytes", "guest.ram_mib"),
            Map.entry("windowBytes", "window_kib"),
            Map.entry("maxIotlbEntries", "vhost.max_iotlb_entries"),
            Map.entry("rxPackets", "workload.rx_packets"),
            Map.entry("txPackets", "workload.tx_packets"),
            Map.entry("packetBytes", "workload.packet_bytes"),
            Map.entry("ringSize", "workload.ring_size"),
            Map.entry("rxRevokes", "guest.rx_revokes"),
            Map.entry("guestPageKib", "guest.page_kib"),
            Map.entry("passthroughPackets", "workload.passthrough_packets"),
            Map.entry("diskRequests", "workload.disk_requests"),
            Map.entry("ddwRemoval", "guest.ddw_removal"));

    /** The most a scenario file may hold: a complete one is under 2 KiB. */
    static final int MAX_BYTES = 64 << 10;

    private Scenario() {}

    public static Loaded load(Path file) throws Invalid {
        String text;
        try {
            text = Files2.readText(file, MAX_BYTES, "a scenario file (a scenario is a few hundred bytes)");
        } catch (IllegalArgumentException e) {
            throw new Invalid(e.getMessage());
        }
        return parse(file.toString(), text);
    }

    public static Loaded parse(String name, String text) throws Invalid {
        Map<String, Integer> lines = new HashMap<>();
        JsonNode root;
        try {
            JsonFactory f = new YAMLFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            collectLines(name, f, text, lines);
            root = new ObjectMapper(f).readTree(text);
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            String why = e.getOriginalMessage();
            // SnakeYAML's own mark is where the problem is (Jackson's location is that of the last token read), and its
            // problem is the one-line part of the message.
            if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException m) {
                if (m.getProblemMark() != null) line = m.getProblemMark().getLine() + 1;
                if (m.getProblem() != null) why = m.getProblem();
            }
            throw new Invalid(String.format("%s:%d: not valid YAML: %s", name, Math.max(1, line), why.lines().findFirst().orElse("").strip()));
        } catch (IOException e) {
            throw new Invalid(name + ": " + e.getMessage());
        }
        refuseAliasesAndMoreDocuments(name, text);
        if (root == null || root.isMissingNode() || root.isNull()) throw new Invalid(name + ":1: the file is empty");
        if (!root.isObject()) throw new Invalid(name + ":1: a scenario is a mapping of keys to values");
        Map<String, JsonNode> values = new LinkedHashMap<>();
        walk(name, "", root, lines, values);

        StackConfig.Builder b = StackConfig.seed().toBuilder();
        FirmwareFeatures fw = StackConfig.seed().fw();
        boolean ind = fw.putTceIndirect(), stuff = fw.stuffTce(), ddw = fw.ddw(), clear = fw.clearOnUnmap();
        Long seed = null;
        Design design = null;
        MechanismFields mech = new MechanismFields();
        tcesim.sim.Hazard hazard = null;
        HostCaps host = StackConfig.seed().host();
        HostCaps.HostKernel kernel = host.kernel();
        for (Map.Entry<String, JsonNode> e : values.entrySet()) {
            String k = e.getKey();
            JsonNode v = e.getValue();
            switch (k) {
                case "design" -> {
                    try {
                        design = Design.parse(v.asText());
                    } catch (IllegalArgumentException x) {
                        String why = v.asText().matches("[^+,]*") && x.getMessage().startsWith("unknown mechanism")
                                ? "unknown value '" + v.asText() + "' (one of D0, D1, D2, D3a, D3b, D4, D4k, V); or mechanisms joined by '+' ("
                                        + Mechanisms.tokenHelp() + "), or a map of them (table, clear, vhost, answer)"
                                : x.getMessage();
                        throw new Invalid(String.format(Locale.ROOT, "%s:%d: design: %s", name, lines.getOrDefault(k, 1), why));
                    }
                }
                case "design.table" -> mech.table = mechanism(name, lines, k, v.asText(), Mechanisms.Table.values(), t -> t.token.replace("-table", ""));
                case "design.clear" -> mech.clear = mechanism(name, lines, k, v.asText(), Mechanisms.Clear.values(), c -> c == Mechanisms.Clear.NONE ? "none" : c.token);
                case "design.vhost" -> mech.vhost = mechanism(name, lines, k, v.asText(), Mechanisms.VhostSide.values(),
                        x -> x == Mechanisms.VhostSide.BOTH ? "both" : x.token);
                case "design.answer" -> mech.answer = mechanism(name, lines, k, v.asText(), Mechanisms.Answer.values(), a -> a.token);
                case "host" -> host = enumValue(name, lines, k, v.asText(), StackOptions.Host.class).caps;
                case "host_kernel" -> {
                    kernel = HostCaps.HostKernel.ofYear(v.asText());
                    if (kernel == null) throw new Invalid(String.format("%s:%d: host_kernel: must be 2019, 2022 or current, got %s", name, lines.getOrDefault(k, 1), v.asText()));
                }
                case "qemu" -> {
                    tcesim.qemu.QemuVersion q = tcesim.qemu.QemuVersion.of(v.asText());
                    if (q == null) throw new Invalid(String.format("%s:%d: qemu: must be " + tcesim.qemu.QemuVersion.choices() + ", got %s", name, lines.getOrDefault(k, 1), v.asText()));
                    b.qemu(q);
                }
                case "seed" -> seed = v.asLong();
                case "hazard" -> {
                    hazard = tcesim.sim.Hazard.byLabel(v.asText());
                    if (hazard == null && !v.asText().equalsIgnoreCase("none")) {
                        StringBuilder known = new StringBuilder();
                        for (tcesim.sim.Hazard h : tcesim.sim.Hazard.values()) known.append(known.length() == 0 ? "" : ", ").append(h.label());
                        throw new Invalid(String.format("%s:%d: hazard: unknown value '%s' (none, or one of %s)", name, lines.getOrDefault(k, 1), v.asText(), known));
                    }
                }
                case "window_kib" -> b.windowBytes(v.asLong() << 10);
                case "guest.vcpus" -> b.vcpus(v.asInt());
                case "guest.ram_mib" -> b.ramBytes(v.asLong() << 20);
                case "guest.stuff_tce" -> stuff = v.asBoolean();
                case "guest.put_tce_indirect" -> ind = v.asBoolean();
                case "guest.ddw" -> ddw = v.asBoolean();
                case "guest.clear_on_unmap" -> clear = v.asBoolean();
                case "guest.kernel_churn" -> b.kernelChurn(v.asBoolean());
                case "guest.rx_revokes" -> b.rxRevokes(v.asInt());
                case "vhost.max_iotlb_entries" -> b.maxIotlbEntries(v.asInt());
                case "workload.rx_packets" -> b.rxPackets(v.asLong());
                case "workload.tx_packets" -> b.txPackets(v.asLong());
                case "workload.packet_bytes" -> b.packetBytes(v.asInt());
                case "workload.ring_size" -> b.ringSize(v.asInt());
                case "workload.passthrough_packets" -> b.passthroughPackets(v.asLong());
                case "workload.request_response" -> b.requestResponse(v.asBoolean());
                case "workload.disk_requests" -> b.diskRequests(v.asLong());
                case "guest.page_kib" -> b.guestPageKib(v.asInt());
                case "guest.hostile" -> b.hostileGuest(v.asBoolean());
                case "guest.rx_buffers" -> b.rxBuffers(enumValue(name, lines, k, v.asText(), StackOptions.RxBuffersOption.class).value);
                case "guest.ddw_removal" -> b.ddwRemoval(enumValue(name, lines, k, v.asText(), StackOptions.DdwRemovalOption.class).value);
                default -> throw new IllegalStateException(k);
            }
        }
        b.fw(new FirmwareFeatures(ind, stuff, ddw, clear));
        b.host(host.withKernel(kernel));
        StackConfig c = b.build();
        if (mech.given()) design = mech.design(name, lines);
        if (design == Design.V && values.containsKey("workload.passthrough_packets")) {
            int line = lines.getOrDefault("workload.passthrough_packets", 1);
            if (c.passthroughPackets() == 0) {
                throw new Invalid(String.format("%s:%d: workload.passthrough_packets: design V puts the traffic on a passthrough NIC: 0 leaves it none", name, line));
            }
            if (values.containsKey("workload.rx_packets") && c.rxPackets() > 0 || values.containsKey("workload.tx_packets") && c.txPackets() > 0) {
                throw new Invalid(String.format("%s:%d: workload.passthrough_packets: design V has no virtio-net NIC, so rx_packets and tx_packets"
                        + " carry nothing beside it: give one count (or another design, for virtio-net beside a passthrough NIC)", name, line));
            }
        }
        if (design != null) c = design.applyTo(c);
        StackConfig withoutHazard = c;
        if (hazard != null) c = hazard.apply(c);
        StackConfig.Problem p = c.problem();
        if (p != null) {
            String field = FIELD_OF.getOrDefault(p.field(), p.field());
            throw new Invalid(String.format("%s:%d: %s: %s", name, lines.getOrDefault(field, 1), field, p.message()));
        }
        return new Loaded(c, seed, hazard, withoutHazard);
    }

    /**
     * Jackson reads a YAML alias as the anchor's name and only the first document of a stream: both would change what
     * the file says without a word, so both are refused, at their line.
     */
    private static void refuseAliasesAndMoreDocuments(String name, String text) throws Invalid {
        int documents = 0;
        try {
            for (org.yaml.snakeyaml.events.Event e : new org.yaml.snakeyaml.Yaml().parse(new java.io.StringReader(text))) {
                int line = e.getStartMark() == null ? 1 : e.getStartMark().getLine() + 1;
                if (e instanceof org.yaml.snakeyaml.events.AliasEvent) {
                    throw new Invalid(String.format("%s:%d: a YAML alias (*name): not supported in a scenario; write the value out", name, line));
                }
                if (e instanceof org.yaml.snakeyaml.events.DocumentStartEvent && ++documents > 1) {
                    throw new Invalid(String.format("%s:%d: a second YAML document: a scenario file holds one", name, line));
                }
            }
        } catch (org.yaml.snakeyaml.error.MarkedYAMLException m) {
            int line = m.getProblemMark() == null ? 1 : m.getProblemMark().getLine() + 1;
            String why = m.getProblem() == null ? "cannot be read" : m.getProblem();
            throw new Invalid(String.format("%s:%d: not valid YAML: %s", name, line, why.lines().findFirst().orElse("").strip()));
        }
    }

    private static void walk(String name, String prefix, JsonNode node, Map<String, Integer> lines, Map<String, JsonNode> out) throws Invalid {
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            int line = lines.getOrDefault(path, 1);
            Object[] spec = KEYS.get(path);
            if (spec == null) {
                throw new Invalid(String.format("%s:%d: %s: unknown key (known here: %s)", name, line, path, knownUnder(prefix)));
            }
            JsonNode v = e.getValue();
            if (path.equals("design") && v.isObject()) { // a design given as a map of mechanisms
                walk(name, path, v, lines, out);
                continue;
            }
            if (spec[0] == null) {
                if (!v.isObject()) throw new Invalid(String.format("%s:%d: %s: must be a mapping of keys", name, line, path));
                walk(name, path, v, lines, out);
                continue;
            }
            Type t = (Type) spec[0];
            switch (t) {
                case INT -> {
                    if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new Invalid(String.format("%s:%d: %s: must be a whole number, got %s", name, line, path, v));
                    long min = (long) spec[1], max = (long) spec[2];
                    if (v.asLong() < min || v.asLong() > max) throw new Invalid(String.format("%s:%d: %s: must be %d..%d, got %d", name, line, path, min, max, v.asLong()));
                }
                case BOOL -> {
                    if (!v.isBoolean()) throw new Invalid(String.format("%s:%d: %s: must be true or false, got %s", name, line, path, v));
                }
                case STRING -> {
                    if (!v.isTextual()) throw new Invalid(String.format("%s:%d: %s: must be a name, got %s", name, line, path, v));
                }
                case WORD -> {
                    if (!v.isTextual() && !v.isNumber()) throw new Invalid(String.format("%s:%d: %s: must be a name or a version, got %s", name, line, path, v));
                }
            }
            out.put(path, v);
        }
    }

    private static String knownUnder(String prefix) {
        StringBuilder sb = new StringBuilder();
        for (String k : KEYS.keySet()) {
            String rest = prefix.isEmpty() ? k : k.startsWith(prefix + ".") ? k.substring(prefix.length() + 1) : null;
            if (rest == null || rest.contains(".")) continue;
            sb.append(sb.length() == 0 ? "" : ", ").append(rest);
        }
        return sb.toString();
    }

    /** A design given as a map of mechanisms: each field as given (null: left out, today's). */
    private static final class MechanismFields {
        Mechanisms.Table table;
        Mechanisms.Clear clear;
        Mechanisms.VhostSide vhost;
        Mechanisms.Answer answer;

        boolean given() { return table != null || clear != null || vhost != null || answer != null; }

        /** The design, or the reason the fields do not make one, at the line of the field that does not fit. */
        Design design(String name, Map<String, Integer> lines) throws Invalid {
            Mechanisms.Table t = table != null ? table : clear == Mechanisms.Clear.EVERY_EXIT ? Mechanisms.Table.QEMU : Mechanisms.Table.KVM;
            Mechanisms.Clear c = clear != null ? clear : t == Mechanisms.Table.QEMU ? Mechanisms.Clear.EVERY_EXIT : Mechanisms.Clear.NONE;
            Mechanisms m = new Mechanisms(t, c, vhost != null ? vhost : Mechanisms.VhostSide.TODAY, answer != null ? answer : Mechanisms.Answer.RW,
                    Mechanisms.Nic.VIRTIO);
            String why = m.invalid();
            if (why != null) {
                String field = clear != null ? "design.clear" : "design.table";
                throw new Invalid(String.format(Locale.ROOT, "%s:%d: %s: %s", name, lines.getOrDefault(field, 1), field, why));
            }
            return Design.of(m);
        }
    }

    private static <E> E mechanism(String name, Map<String, Integer> lines, String key, String text, E[] values,
            java.util.function.Function<E, String> word) throws Invalid {
        for (E e : values) if (word.apply(e).equalsIgnoreCase(text.trim())) return e;
        StringBuilder known = new StringBuilder();
        for (E e : values) known.append(known.length() == 0 ? "" : ", ").append(word.apply(e));
        throw new Invalid(String.format(Locale.ROOT, "%s:%d: %s: unknown value '%s' (one of %s)", name, lines.getOrDefault(key, 1), key, text, known));
    }

    private static <E extends Enum<E>> E enumValue(String name, Map<String, Integer> lines, String key, String text, Class<E> type) throws Invalid {
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(text)) return e;
        StringBuilder known = new StringBuilder();
        for (E e : type.getEnumConstants()) known.append(known.length() == 0 ? "" : ", ").append(e.name());
        throw new Invalid(String.format(Locale.ROOT, "%s:%d: %s: unknown value '%s' (one of %s)", name, lines.getOrDefault(key, 1), key, text, known));
    }

    /** The line of every key, by dotted path, from the token stream (the tree keeps no locations). */
    private static void collectLines(String name, JsonFactory f, String text, Map<String, Integer> lines) throws IOException, Invalid {
        try (JsonParser p = f.createParser(text)) {
            Deque<String> path = new ArrayDeque<>();
            String pending = null;
            JsonToken t;
            while (true) {
                try {
                    t = p.nextToken();
                } catch (com.fasterxml.jackson.core.JsonParseException e) {
                    if (e.getOriginalMessage() == null || !e.getOriginalMessage().startsWith("Duplicate field")) throw e;
                    // STRICT_DUPLICATE_DETECTION: the parser's current name is the repeated key.
                    String full = path.isEmpty() ? p.currentName() : path.peekLast() + "." + p.currentName();
                    int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
                    throw new Invalid(String.format("%s:%d: %s: duplicate key (first given on line %d)", name, line, full, lines.getOrDefault(full, 1)));
                }
                if (t == null) break;
                switch (t) {
                    case FIELD_NAME -> {
                        String full = path.isEmpty() ? p.currentName() : path.peekLast() + "." + p.currentName();
                        lines.putIfAbsent(full, p.currentLocation().getLineNr());
                        pending = full;
                    }
                    case START_OBJECT -> {
                        if (pending != null) path.addLast(pending);
                        else if (!path.isEmpty()) path.addLast(path.peekLast());
                        pending = null;
                    }
                    case END_OBJECT -> {
                        if (!path.isEmpty()) path.removeLast();
                    }
                    case START_ARRAY -> {
                        p.skipChildren();
                        pending = null;
                    }
                    default -> pending = null;
                }
            }
        }
    }
}
