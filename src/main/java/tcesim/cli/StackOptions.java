package tcesim.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import tcesim.guest.FirmwareFeatures;
import tcesim.guest.VirtioNetDriver;
import tcesim.kvm.HostCaps;
import tcesim.kvm.HostCaps.HostKernel;
import tcesim.qemu.QemuVersion;
import tcesim.sim.Design;
import tcesim.sim.StackConfig;

/** The options that describe the modelled system, shared by every command that runs it. */
public final class StackOptions {
    /** Host kinds: the KVM capabilities each reports and what its real mode does (on a 2019 kernel; see --host-kernel). */
    public enum Host {
        powernv(HostCaps.POWERNV_HV), powernv8(HostCaps.POWERNV8_HV), nested(HostCaps.NESTED_PSERIES), no_vfio_tce(HostCaps.NO_VFIO_TCE),
        no_kvm_tce(HostCaps.NO_KVM_TCE);

        final HostCaps caps;

        Host(HostCaps caps) { this.caps = caps; }

        /** The kind whose 2019 form is {@code c} (any era), or null. */
        static Host of(HostCaps c) {
            for (Host h : values()) if (h.caps.equals(c.withKernel(HostKernel.K2019))) return h;
            return null;
        }
    }

    /** A value users type by name, looked up by {@code of} (null for an unknown name), refused with {@code expected}. */
    abstract static class NamedValue<T> implements CommandLine.ITypeConverter<T> {
        private final java.util.function.Function<String, T> of;
        private final String expected;

        NamedValue(java.util.function.Function<String, T> of, String expected) {
            this.of = of;
            this.expected = expected;
        }

        @Override
        public T convert(String value) {
            T v = of.apply(value);
            if (v == null) throw new CommandLine.TypeConversionException(expected + ", got '" + value + "'");
            return v;
        }
    }

    /** Kernel eras as users type them: 2019, 2022 or current. */
    static final class KernelConverter extends NamedValue<HostKernel> {
        KernelConverter() { super(HostKernel::ofYear, "host kernel must be 2019, 2022 or current"); }
    }

    /** QEMU releases as users type them: 4.2, 5.2, 6.0-dev or current. */
    static final class QemuConverter extends NamedValue<QemuVersion> {
        QemuConverter() { super(QemuVersion::of, "QEMU must be " + QemuVersion.choices()); }
    }

    @Option(names = "--qemu", paramLabel = "VERSION", converter = QemuConverter.class,
            description = "QEMU release: 4.2 (the seed's), 5.2 (vhost listens for DEVIOTLB_UNMAP only, which spapr never sends: no INVALIDATE reaches vhost) "
                    + "or current (6.0 and later: UNMAP again). Default: ${DEFAULT-VALUE}.")
    QemuVersion qemu = QemuVersion.Q4_2;

    /** Designs as users type them: a named one (D0 .. V, any case) or a combination of mechanisms ({@link Design#parse}). */
    static final class DesignConverter implements CommandLine.ITypeConverter<Design> {
        @Override
        public Design convert(String value) {
            try {
                return Design.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Option(names = "--design", paramLabel = "D", converter = DesignConverter.class, completionCandidates = Design.Names.class,
            description = {"Invalidation design: ${COMPLETION-CANDIDATES}, or a combination of mechanisms joined by '+' or ',', each left out as"
                    + " today's, or after a named design (D4+drop-late-update): table kvm-table or qemu-table; clear path no-clear-path, stuff-exit,"
                    + " every-exit (the table in QEMU), eventfd, eventfd-ack, link, link-kill; vhost today, drop-late-update, single-miss;"
                    + " QEMU's answer rw or tce-perm. Default: ${DEFAULT-VALUE}."})
    Design design = Design.D0;

    @Option(names = "--host", paramLabel = "KIND", description = "Host: powernv (POWER9 PowerNV, HV-KVM with KVM_CAP_SPAPR_TCE_VFIO, radix guest: real mode punts every TCE hcall to virtual mode; the seed's), powernv8 (POWER8, hash guest: real mode handles them), nested (a KVM host that is itself a pseries guest: virtual mode only, KVM_CAP_SPAPR_TCE_VFIO only on the current era), no_vfio_tce (table moves to QEMU when vhost registers), no_kvm_tce (no in-kernel TCE). Default: ${DEFAULT-VALUE}.")
    Host host = Host.powernv;

    @Option(names = "--host-kernel", paramLabel = "YEAR", converter = KernelConverter.class,
            description = "Host kernel era: 2019 (the seed's: real-mode handlers, one TCE kill per hypercall, H_STUFF_TCE kills the entries after the cleared ones) 2022 (v5.18: no real-mode handlers, one TCE kill per entry; like 2019, KVM checks only the first entry of a multi-TCE call against the window) or current (late 2026: as 2022, every entry checked). Default: ${DEFAULT-VALUE}.")
    HostKernel hostKernel = HostKernel.K2019;

    @Option(names = "--max-iotlb-entries", paramLabel = "N", description = "vhost's max_iotlb_entries (default: ${DEFAULT-VALUE}).")
    int maxIotlbEntries = 2048;

    @Option(names = "--packets", paramLabel = "N", description = "Packets each way, RX and TX (default: ${DEFAULT-VALUE}).")
    long packets = 5000;

    @Option(names = "--tx-packets", paramLabel = "N", description = "TX packets, when they differ from --packets.")
    Long txPackets;

    @Option(names = "--packet-bytes", paramLabel = "N", description = "Bytes per packet, 64..4096 (default: ${DEFAULT-VALUE}).")
    int packetBytes = 1500;

    @Option(names = "--vcpus", paramLabel = "N", description = "Guest vCPUs, 1..8 (default: ${DEFAULT-VALUE}).")
    int vcpus = 1;

    @Option(names = "--no-stuff-tce", description = "Guest without the STUFF_TCE feature: clears with H_PUT_TCE(0) per page.")
    boolean noStuff;

    @Option(names = "--no-indirect", description = "Guest without PUT_TCE_IND: maps with H_PUT_TCE per page.")
    boolean noIndirect;

    @Option(names = "--no-clear", description = "Guest that does not clear TCEs on unmap and overwrites valid TCEs later.")
    boolean noClear;

    @Option(names = "--ddw", description = "Guest with a 64-bit DDW mapping all RAM once (no per-packet mapping).")
    boolean ddw;

    @Option(names = "--ram-mib", paramLabel = "N", description = "Guest RAM in MiB (default: ${DEFAULT-VALUE}).")
    long ramMib = 256;

    @Option(names = "--window-kib", paramLabel = "N", description = "Size of the default DMA window in KiB, a power of two (default: ${DEFAULT-VALUE}).")
    long windowKib = 1L << 20;

    @Option(names = "--ring-size", paramLabel = "N", description = "Virtqueue size (default: ${DEFAULT-VALUE}).")
    int ringSize = 256;

    @Option(names = "--rx-revokes", paramLabel = "N", description = "A misbehaving guest takes back N posted RX buffers (unmaps and frees them while the device owns them). Default: ${DEFAULT-VALUE}.")
    int rxRevokes;

    @Option(names = "--passthrough", paramLabel = "N", description = "Add a NIC passed through with VFIO on the same window, delivering N packets (default: ${DEFAULT-VALUE}: none).")
    long passthrough;

    @Option(names = "--disk-io", paramLabel = "N", description = "Add a virtio-blk disk on the same PHB, which QEMU serves itself (not through vhost), with N"
            + " one-block requests spread over the network traffic: its buffers take IOVAs from the same pools without adding vhost IOTLB entries"
            + " (default: ${DEFAULT-VALUE}: no disk).")
    long diskIo;

    @Option(names = "--no-kernel-churn", negatable = true, description = "The rest of the guest kernel does not allocate pages between packets (--kernel-churn: it does).")
    Boolean noChurnOption;

    /**
     * The command's default for kernel churn (check's small configuration has none); the flag, when given, wins. Kept
     * apart from the option because picocli sets a negatable option to the opposite of its default: with a default of
     * true, --no-kernel-churn would turn churn on.
     */
    boolean noChurn;

    private boolean noChurn() {
        return noChurnOption != null ? noChurnOption : noChurn;
    }

    /** The host and the eras a result was computed on, by the names users type: host, hostKernel, qemu. */
    static Map<String, String> eras(StackConfig c) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        Host h = Host.of(c.host());
        m.put("host", h == null ? "custom" : h.name());
        m.put("hostKernel", c.host().kernel().label());
        m.put("qemu", c.qemu().label());
        return m;
    }

    /** {@link #eras} as a line: "host powernv, host kernel 2019, QEMU 4.2". */
    static String erasLine(StackConfig c) {
        Map<String, String> e = eras(c);
        return "host " + e.get("host") + ", host kernel " + e.get("hostKernel") + ", QEMU " + e.get("qemu");
    }

    /** The option, among {@code options}, that users type for the configuration value {@code v}. */
    static <O> O spelling(O[] options, java.util.function.Function<O, Object> value, Object v) {
        for (O o : options) if (value.apply(o) == v) return o;
        throw new IllegalArgumentException(String.valueOf(v));
    }

    /** How a DDW guest gives its window back, as users type it. */
    enum DdwRemovalOption {
        none(StackConfig.DdwRemoval.NONE), linux(StackConfig.DdwRemoval.LINUX), without_clear(StackConfig.DdwRemoval.WITHOUT_CLEAR);

        final StackConfig.DdwRemoval value;

        DdwRemovalOption(StackConfig.DdwRemoval v) { this.value = v; }

        static DdwRemovalOption of(StackConfig.DdwRemoval v) { return spelling(values(), o -> o.value, v); }
    }

    @Option(names = "--ddw-removal", paramLabel = "HOW", description = "A DDW guest gives its 64-bit window back half-way through the RX stream: ${COMPLETION-CANDIDATES}"
            + " (linux: clear it with H_STUFF_TCE, then ibm,remove-pe-dma-window, as remove_ddw does; without_clear: remove it as it is). Default: ${DEFAULT-VALUE}.")
    DdwRemovalOption ddwRemoval = DdwRemovalOption.none;

    /** How the guest lays out its receive buffers, as users type it. */
    enum RxBuffersOption {
        mergeable(VirtioNetDriver.RxBuffers.MERGEABLE), page(VirtioNetDriver.RxBuffers.PAGE);

        final VirtioNetDriver.RxBuffers value;

        RxBuffersOption(VirtioNetDriver.RxBuffers v) { this.value = v; }

        static RxBuffersOption of(VirtioNetDriver.RxBuffers v) { return spelling(values(), o -> o.value, v); }
    }

    @Option(names = "--rx-buffers", paramLabel = "LAYOUT", description = "The guest's receive buffers: ${COMPLETION-CANDIDATES} (mergeable: "
            + "1536-byte slices of page fragments, several to a page, as Linux's virtio-net posts them with QEMU's default mrg_rxbuf=on; "
            + "page: one whole guest page per buffer). Default: ${DEFAULT-VALUE}.")
    RxBuffersOption rxBuffers = RxBuffersOption.mergeable;

    @Option(names = "--guest-page-kib", paramLabel = "N", description = "The guest kernel's page size in KiB: 64 (ppc64's default) or 4. Default: ${DEFAULT-VALUE}.")
    int guestPageKib = 64;

    @Option(names = "--hostile-guest", description = "Besides its traffic, the guest may make one TCE hypercall of a small adversarial set at any point "
            + "(past the window's end, npages 0 and 513, a list or a TCE outside guest RAM, an unknown LIOBN; see README). check then watches "
            + "host_memory and isolation unless --properties says otherwise.")
    boolean hostileGuest;

    @Option(names = "--request-response", description = "A TCP_RR-like workload: each RX packet is a request the guest answers with a TX packet before the next comes.")
    boolean requestResponse;

    @Option(names = "--zero-size-update", description = "QEMU answers MISSes with UPDATEs of size 0 (a userspace bug; the update-size-0 hazard).")
    boolean zeroSizeUpdate;

    @Option(names = "--map-past-window-end", description = "A buggy guest maps its first RX buffer with two TCEs at the window's last entry (the partial-failure hazard).")
    boolean mapPastWindowEnd;

    /** The small configuration the exhaustive checker explores by default: a 64 KiB window (IOVAs come back at once), 8 IOTLB entries, 2-entry rings, two packets each way, no kernel churn. */
    public static StackOptions small() {
        StackOptions o = new StackOptions();
        o.ramMib = 16;
        o.windowKib = 64;
        o.maxIotlbEntries = 8;
        o.ringSize = 2;
        o.packets = 2;
        o.noChurn = true;
        return o;
    }

    @Option(names = "--hazard", paramLabel = "NAME", converter = HazardConverter.class,
            description = "Put one of the hazards next to the seed's bug in the run: overwrite-without-clear, ro-cached-rw, window-removal, miss-on-cleared,"
                    + " update-size-0, partial-failure; or none (instead of a scenario file's hazard).")
    tcesim.sim.Hazard hazard;

    /** Hazard names as users type them; {@code none} is no hazard (null). */
    static final class HazardConverter implements CommandLine.ITypeConverter<tcesim.sim.Hazard> {
        @Override
        public tcesim.sim.Hazard convert(String value) {
            tcesim.sim.Hazard h = tcesim.sim.Hazard.byLabel(value);
            if (h == null && !value.equalsIgnoreCase("none")) throw new CommandLine.TypeConversionException("unknown hazard '" + value + "'");
            return h;
        }
    }

    @Option(names = "--scenario", paramLabel = "FILE", description = "Read the configuration from a YAML/JSON scenario file (see README); options given on the command line override it.")
    java.nio.file.Path scenario;

    @Option(names = "--config-id", paramLabel = "ID", description = "Run only if the configuration is the one with this id, as replay lines"
            + " carry it (choices and seeds replay only on the configuration they came from); refused naming the settings that differ.")
    String configId;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec mixee;

    private Scenario.Loaded loaded;

    /** The configuration of the run: the flags' (or the scenario file's, with the flags over it) with the hazard applied. */
    public StackConfig toConfig() {
        StackConfig c = baseConfig();
        tcesim.sim.Hazard h = effectiveHazard();
        if (h != null) c = h.apply(c);
        String unavailable = c.design().unavailableOn(c.host());
        if (unavailable != null) throw new IllegalArgumentException("--design " + unavailable + " (host " + hostName(c) + ")");
        if (configId != null) {
            String why = ConfigId.mismatch(configId.trim(), c);
            if (why != null) throw new IllegalArgumentException(why);
        }
        return c;
    }

    private static String hostName(StackConfig c) {
        Host h = Host.of(c.host());
        return h == null ? c.host().toString() : h.name();
    }

    /**
     * Design V's NIC is a passthrough one in place of virtio-net ({@link Design#applyTo}): {@code --passthrough 0} leaves
     * it nothing, and packets for virtio-net beside its own count would be dropped, so both are refused.
     */
    private void refuseWhatVCannotHave(Design d, long passthroughPackets) {
        if (d != Design.V) return;
        if (matched("--passthrough") && passthrough == 0) {
            throw new IllegalArgumentException("--design V puts the guest's traffic on a passthrough NIC: --passthrough 0 leaves it none (virtio-net alone is the other designs')");
        }
        boolean vhostPackets = matched("--packets") && packets > 0 || matched("--tx-packets") && txPackets != null && txPackets > 0;
        if (passthroughPackets > 0 && vhostPackets) {
            throw new IllegalArgumentException("--design V has no virtio-net NIC: its passthrough NIC carries " + passthroughPackets
                    + " packets (--passthrough), and --packets/--tx-packets would carry nothing; give one count, or another design for virtio-net beside a passthrough NIC");
        }
    }

    /** The configuration before its hazard is applied: what the flags of a replay line spell, next to {@code --hazard}. */
    public StackConfig configWithoutHazard() {
        return baseConfig();
    }

    private StackConfig baseConfig() {
        FirmwareFeatures flagsFw = new FirmwareFeatures(!noIndirect, !noStuff, ddw, !noClear);
        if (scenario == null) {
            refuseWhatVCannotHave(design, passthrough);
            return design.applyTo(StackConfig.seed().toBuilder().host(host.caps.withKernel(hostKernel)).fw(flagsFw)
                    .vcpus(vcpus).maxIotlbEntries(maxIotlbEntries).rxPackets(packets).txPackets(txPackets == null ? packets : txPackets)
                    .ringSize(ringSize).packetBytes(packetBytes).ramBytes(shifted("--ram-mib", ramMib, 20, "16 MiB to 64 GiB")).windowBytes(shifted("--window-kib", windowKib, 10, "64 KiB to 1 TiB"))
                    .kernelChurn(!noChurn()).rxRevokes(rxRevokes).passthroughPackets(passthrough).ddwRemoval(ddwRemoval.value)
                    .requestResponse(requestResponse).diskRequests(diskIo).guestPageKib(guestPageKib).rxBuffers(rxBuffers.value).hostileGuest(hostileGuest).qemu(qemu)
                    .faults(faults(StackConfig.Faults.NONE)).build());
        }
        // The file's configuration without its hazard, the flags over it; toConfig applies the hazard (--hazard replaces the file's).
        StackConfig.Builder b = loadScenario().withoutHazard().toBuilder();
        StackConfig sc = b.build();
        if (matched("--host")) b.host(host.caps.withKernel(sc.host().kernel()));
        if (matched("--host-kernel")) b.host(b.build().host().withKernel(hostKernel));
        if (matched("--vcpus")) b.vcpus(vcpus);
        if (matched("--max-iotlb-entries")) b.maxIotlbEntries(maxIotlbEntries);
        if (matched("--packets")) b.rxPackets(packets).txPackets(packets);
        if (matched("--tx-packets")) b.txPackets(txPackets);
        if (matched("--packet-bytes")) b.packetBytes(packetBytes);
        if (matched("--ring-size")) b.ringSize(ringSize);
        if (matched("--ram-mib")) b.ramBytes(shifted("--ram-mib", ramMib, 20, "16 MiB to 64 GiB"));
        if (matched("--window-kib")) b.windowBytes(shifted("--window-kib", windowKib, 10, "64 KiB to 1 TiB"));
        if (matched("--no-kernel-churn")) b.kernelChurn(!noChurn());
        if (matched("--rx-revokes")) b.rxRevokes(rxRevokes);
        if (matched("--passthrough")) b.passthroughPackets(passthrough);
        if (matched("--ddw-removal")) b.ddwRemoval(ddwRemoval.value);
        if (matched("--request-response")) b.requestResponse(requestResponse);
        if (matched("--disk-io")) b.diskRequests(diskIo);
        if (matched("--guest-page-kib")) b.guestPageKib(guestPageKib);
        if (matched("--rx-buffers")) b.rxBuffers(rxBuffers.value);
        if (matched("--hostile-guest")) b.hostileGuest(hostileGuest);
        if (matched("--qemu")) b.qemu(qemu);
        b.faults(faults(sc.faults()));
        FirmwareFeatures f = sc.fw();
        b.fw(new FirmwareFeatures(matched("--no-indirect") ? !noIndirect : f.putTceIndirect(), matched("--no-stuff-tce") ? !noStuff : f.stuffTce(),
                matched("--ddw") ? ddw : f.ddw(), matched("--no-clear") ? !noClear : f.clearOnUnmap()));
        Design d = matched("--design") ? design : sc.design();
        design = d;
        StackConfig c = b.build();
        refuseWhatVCannotHave(d, c.passthroughPackets());
        return d.applyTo(c);
    }

    /** The configuration's faults with those the flags switch on added. */
    private StackConfig.Faults faults(StackConfig.Faults f) {
        if (zeroSizeUpdate) f = f.with(StackConfig.Fault.ZERO_SIZE_UPDATE);
        if (mapPastWindowEnd) f = f.with(StackConfig.Fault.MAP_PAST_WINDOW_END);
        return f;
    }

    /** {@code value << shift}, checked first: a value too large to shift (or negative) is reported as the user typed it. */
    private long shifted(String option, long value, int shift, String range) {
        if (value >= 0 && value <= Long.MAX_VALUE >> shift) return value << shift;
        String msg = option + " must be " + range + ", got " + value;
        if (mixee == null || mixee.commandLine() == null) throw new IllegalArgumentException(msg);
        throw new CommandLine.ParameterException(mixee.commandLine(), msg);
    }

    /** The hazard of the run: --hazard (null for none), else the scenario file's {@code hazard:}, else null. */
    public tcesim.sim.Hazard effectiveHazard() {
        if (matched("--hazard") || scenario == null) return hazard;
        return loadScenario().hazard();
    }

    /** The seed a scenario file gives, or null. */
    public Long scenarioSeed() {
        return scenario == null ? null : loadScenario().seed();
    }

    private Scenario.Loaded loadScenario() {
        if (loaded == null) {
            try {
                loaded = Scenario.load(scenario);
            } catch (Scenario.Invalid e) {
                throw new IllegalArgumentException(e.getMessage());
            }
        }
        return loaded;
    }

    boolean matched(String option) {
        if (mixee == null || mixee.commandLine() == null) return false;
        CommandLine.ParseResult pr = mixee.commandLine().getParseResult();
        return pr != null && pr.hasMatchedOption(option);
    }

    /** The options as they would be typed, for replay lines: every setting of the effective configuration, its hazard and its id. */
    public String asArgs() {
        return replayArgs(configWithoutHazard(), effectiveHazard());
    }

    /** The options but the design, for commands that go over several designs. */
    public String asArgsWithoutDesign() {
        return argsOf(configWithoutHazard()) + hazardArg(effectiveHazard());
    }

    /** The flags that rebuild {@code c} with its design, and then {@code h} applied to it (null: none). */
    static String replayArgs(StackConfig c, tcesim.sim.Hazard h) {
        return " --design " + c.design() + argsOf(c) + hazardArg(h) + " --config-id " + ConfigId.of(h == null ? c : h.apply(c));
    }

    private static String hazardArg(tcesim.sim.Hazard h) {
        return h == null ? "" : " --hazard " + h.label();
    }

    /** Flags that rebuild {@code c} (design aside) from the defaults of {@code repro}. */
    static String argsOf(StackConfig c) {
        StringBuilder sb = new StringBuilder();
        Host h = Host.of(c.host());
        if (h != null) sb.append(" --host ").append(h);
        if (c.host().kernel() != HostKernel.K2019) sb.append(" --host-kernel ").append(c.host().kernel());
        if (c.qemu() != QemuVersion.Q4_2) sb.append(" --qemu ").append(c.qemu());
        sb.append(" --max-iotlb-entries ").append(c.maxIotlbEntries()).append(" --packets ").append(c.rxPackets());
        if (c.txPackets() != c.rxPackets()) sb.append(" --tx-packets ").append(c.txPackets());
        sb.append(" --vcpus ").append(c.vcpus());
        if (c.ringSize() != 256) sb.append(" --ring-size ").append(c.ringSize());
        if (c.ramBytes() != 256L << 20) sb.append(" --ram-mib ").append(c.ramBytes() >> 20);
        if (c.windowBytes() != 1L << 30) sb.append(" --window-kib ").append(c.windowBytes() >> 10);
        if (c.packetBytes() != 1500) sb.append(" --packet-bytes ").append(c.packetBytes());
        if (!c.fw().stuffTce()) sb.append(" --no-stuff-tce");
        if (!c.fw().putTceIndirect()) sb.append(" --no-indirect");
        if (c.fw().ddw()) sb.append(" --ddw");
        if (!c.fw().clearOnUnmap()) sb.append(" --no-clear");
        if (!c.kernelChurn()) sb.append(" --no-kernel-churn");
        if (c.rxRevokes() != 0) sb.append(" --rx-revokes ").append(c.rxRevokes());
        if (c.passthroughPackets() != 0) sb.append(" --passthrough ").append(c.passthroughPackets());
        if (c.ddwRemoval() != StackConfig.DdwRemoval.NONE) sb.append(" --ddw-removal ").append(DdwRemovalOption.of(c.ddwRemoval()));
        if (c.requestResponse()) sb.append(" --request-response");
        if (c.diskRequests() != 0) sb.append(" --disk-io ").append(c.diskRequests());
        if (c.guestPageKib() != 64) sb.append(" --guest-page-kib ").append(c.guestPageKib());
        if (c.rxBuffers() != VirtioNetDriver.RxBuffers.MERGEABLE) sb.append(" --rx-buffers ").append(RxBuffersOption.of(c.rxBuffers()));
        if (c.hostileGuest()) sb.append(" --hostile-guest");
        if (c.faults().has(StackConfig.Fault.ZERO_SIZE_UPDATE)) sb.append(" --zero-size-update");
        if (c.faults().has(StackConfig.Fault.MAP_PAST_WINDOW_END)) sb.append(" --map-past-window-end");
        return sb.toString();
    }
}
