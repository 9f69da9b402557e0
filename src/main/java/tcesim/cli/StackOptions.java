package tcesim.cli;

import picocli.CommandLine.Option;
import tcesim.guest.FirmwareFeatures;
import tcesim.kvm.HostCaps;
import tcesim.sim.Design;
import tcesim.sim.StackConfig;

/** The options that describe the modelled system, shared by every command that runs it. */
public final class StackOptions {
    /** Host kinds with the KVM capabilities each reports. */
    public enum Host {
        powernv(HostCaps.POWERNV_HV), no_vfio_tce(HostCaps.NO_VFIO_TCE), no_kvm_tce(HostCaps.NO_KVM_TCE);

        final HostCaps caps;

        Host(HostCaps caps) { this.caps = caps; }
    }

    @Option(names = "--design", paramLabel = "D", description = "Invalidation design: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Design design = Design.D0;

    @Option(names = "--host", paramLabel = "KIND", description = "Host: powernv (HV-KVM with KVM_CAP_SPAPR_TCE_VFIO, the seed's), no_vfio_tce (table moves to QEMU when vhost registers), no_kvm_tce (no in-kernel TCE). Default: ${DEFAULT-VALUE}.")
    Host host = Host.powernv;

    @Option(names = "--max-iotlb-entries", paramLabel = "N", description = "vhost's max_iotlb_entries (default: ${DEFAULT-VALUE}).")
    int maxIotlbEntries = 2048;

    @Option(names = "--packets", paramLabel = "N", description = "Packets each way, RX and TX (default: ${DEFAULT-VALUE}).")
    long packets = 5000;

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

    @Option(names = "--no-kernel-churn", negatable = true, description = "The rest of the guest kernel does not allocate pages between packets (--kernel-churn: it does).")
    boolean noChurn;

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

    public StackConfig toConfig() {
        return design.applyTo(StackConfig.seed().toBuilder().host(host.caps).fw(new FirmwareFeatures(!noIndirect, !noStuff, ddw, !noClear))
                .vcpus(vcpus).maxIotlbEntries(maxIotlbEntries).rxPackets(packets).txPackets(packets).ringSize(ringSize)
                .ramBytes(ramMib << 20).windowBytes(windowKib << 10)
                .kernelChurn(!noChurn).rxRevokes(rxRevokes).passthroughPackets(passthrough).build());
    }

    /** The options as they would be typed, for replay lines. */
    public String asArgs() {
        return " --design " + design + asArgsWithoutDesign();
    }

    /** The options but the design, for commands that go over several designs. */
    public String asArgsWithoutDesign() {
        StringBuilder sb = new StringBuilder();
        sb.append(" --host ").append(host).append(" --max-iotlb-entries ").append(maxIotlbEntries)
                .append(" --packets ").append(packets).append(" --vcpus ").append(vcpus);
        if (ringSize != 256) sb.append(" --ring-size ").append(ringSize);
        if (ramMib != 256) sb.append(" --ram-mib ").append(ramMib);
        if (windowKib != 1L << 20) sb.append(" --window-kib ").append(windowKib);
        if (noStuff) sb.append(" --no-stuff-tce");
        if (noIndirect) sb.append(" --no-indirect");
        if (ddw) sb.append(" --ddw");
        if (noClear) sb.append(" --no-clear");
        if (noChurn) sb.append(" --no-kernel-churn");
        if (rxRevokes != 0) sb.append(" --rx-revokes ").append(rxRevokes);
        if (passthrough != 0) sb.append(" --passthrough ").append(passthrough);
        return sb.toString();
    }
}
