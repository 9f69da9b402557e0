package tcesim.cli;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tcesim.sim.StackConfig;

/**
 * A configuration's fingerprint, carried by replay lines ({@code --config-id}) so that choices or a seed are not
 * replayed on another configuration than the one they came from. It is {@code c2-}, a 32-bit hash of every setting
 * (and of the whole record, so that a field not yet among the settings still counts), and then one byte (two hex
 * digits) a setting, in {@link #settings} order: a difference is always seen (but for a
 * 2^-40 chance), and the settings whose byte differs are named. It is a pure function of the effective
 * {@link StackConfig} (hazard and design applied), so the same configuration spelt another way (a scenario file, a
 * hazard's flags) has the same id.
 */
final class ConfigId {
    static final String PREFIX = "c2-";

    private ConfigId() {}

    /** Every setting of {@code c} that a replay line can spell, by the flag that sets it (defaults included), in a fixed order. */
    static Map<String, String> settings(StackConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        StackOptions.Host h = StackOptions.Host.of(c.host());
        m.put("--design", c.design().name());
        m.put("--host", h != null ? h.name() : c.host().withKernel(tcesim.kvm.HostCaps.HostKernel.K2019).toString());
        m.put("--host-kernel", c.host().kernel().toString());
        m.put("--qemu", c.qemu().label());
        m.put("--max-iotlb-entries", Integer.toString(c.maxIotlbEntries()));
        m.put("--packets", Long.toString(c.rxPackets()));
        m.put("--tx-packets", Long.toString(c.txPackets()));
        m.put("--vcpus", Integer.toString(c.vcpus()));
        m.put("--ring-size", Integer.toString(c.ringSize()));
        m.put("--ram-mib", Long.toString(c.ramBytes()));
        m.put("--window-kib", Long.toString(c.windowBytes()));
        m.put("--packet-bytes", Integer.toString(c.packetBytes()));
        m.put("--no-stuff-tce", Boolean.toString(!c.fw().stuffTce()));
        m.put("--no-indirect", Boolean.toString(!c.fw().putTceIndirect()));
        m.put("--ddw", Boolean.toString(c.fw().ddw()));
        m.put("--no-clear", Boolean.toString(!c.fw().clearOnUnmap()));
        m.put("--no-kernel-churn", Boolean.toString(!c.kernelChurn()));
        m.put("--rx-revokes", Integer.toString(c.rxRevokes()));
        m.put("--passthrough", Long.toString(c.passthroughPackets()));
        m.put("--ddw-removal", c.ddwRemoval().name());
        m.put("--request-response", Boolean.toString(c.requestResponse()));
        m.put("--disk-io", Long.toString(c.diskRequests()));
        m.put("--guest-page-kib", Integer.toString(c.guestPageKib()));
        m.put("--rx-buffers", c.rxBuffers().name());
        m.put("--hostile-guest", Boolean.toString(c.hostileGuest()));
        StackConfig.Faults f = c.faults();
        m.put("--zero-size-update", Boolean.toString(f.has(StackConfig.Fault.ZERO_SIZE_UPDATE)));
        m.put("--map-past-window-end", Boolean.toString(f.has(StackConfig.Fault.MAP_PAST_WINDOW_END)));
        m.put("fault injection", f.planted().stream().filter(x -> x != StackConfig.Fault.ZERO_SIZE_UPDATE && x != StackConfig.Fault.MAP_PAST_WINDOW_END)
                .map(Enum::name).collect(java.util.stream.Collectors.joining(",")));
        return m;
    }

    /** The id of {@code c}. */
    static String of(StackConfig c) {
        Map<String, String> s = settings(c);
        StringBuilder all = new StringBuilder();
        StringBuilder bytes = new StringBuilder();
        s.forEach((k, v) -> {
            String kv = k + "=" + v + ";";
            all.append(kv);
            bytes.append(String.format("%02x", fnv(kv) >>> 56));
        });
        // The whole hash also covers the record's own text (every component, nested records and enums by name): a
        // setting added to StackConfig and not yet to settings() still changes the id, though unnamed.
        return PREFIX + String.format("%08x", fnv(all + "|" + c) >>> 32) + "-" + bytes;
    }

    /**
     * Null when {@code id} is {@code c}'s; otherwise why not, naming the settings that differ (or saying that the id is
     * not one this version writes).
     */
    static String mismatch(String id, StackConfig c) {
        String mine = of(c);
        if (mine.equals(id)) return null;
        if (!id.startsWith(PREFIX) || id.length() != mine.length() || !id.matches(java.util.regex.Pattern.quote(PREFIX) + "[0-9a-f]{8}-[0-9a-f]+")) {
            return "--config-id " + id + ": not a configuration id this tcesim writes (ids look like " + mine.substring(0, 12) + "...)";
        }
        List<String> differ = new ArrayList<>();
        int i = 0;
        int at = PREFIX.length() + 9;
        for (String k : settings(c).keySet()) {
            int p = at + 2 * i++;
            if (!id.regionMatches(p, mine, p, 2)) differ.add(k);
        }
        String which = differ.isEmpty() ? "a setting differs (the id cannot say which)"
                : String.join(", ", differ) + (differ.size() == 1 ? " differs" : " differ");
        return "--config-id: the replay came from another configuration than this command line's: " + which
                + "; run the replay line as it was printed";
    }

    /** 64-bit FNV-1a of the string's UTF-8 bytes, with MurmurHash3's finalizer so that every bit of the input moves the high bytes. */
    private static long fnv(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
