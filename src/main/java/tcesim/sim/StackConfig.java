package tcesim.sim;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import tcesim.guest.FirmwareFeatures;
import tcesim.guest.VirtioNetDriver;
import tcesim.kvm.HostCaps;
import tcesim.kvm.KvmPolicy;
import tcesim.qemu.QemuPolicy;

/**
 * Everything that defines one run of the stack. The defaults ({@link #seed()}) are the seed's
 * configuration: a PowerNV host with HV-KVM, a guest without DDW on the default 1 GiB window of 4 KiB
 * TCEs, virtio-net on vhost with ACCESS_PLATFORM, netperf-like RX and TX.
 *
 * @param host the host: KVM capabilities, real-mode behaviour and kernel era
 * @param design the invalidation design
 * @param fw guest firmware features
 * @param vcpus guest vCPUs (1..8)
 * @param ramBytes guest RAM
 * @param windowBytes size of the default DMA window
 * @param maxIotlbEntries vhost's max_iotlb_entries
 * @param rxPackets packets the network sends to the guest
 * @param txPackets packets the guest sends
 * @param packetBytes bytes per packet (at most one 4 KiB page)
 * @param ringSize virtqueue size
 * @param kernelChurn whether the rest of the guest kernel allocates and frees pages between packets
 * @param rxRevokes how many times a misbehaving guest takes back an RX buffer the device still owns (unmaps
 *     and frees it while it is posted); 0 for a well-behaved guest
 * @param passthroughPackets packets a NIC passed through with VFIO on the same window delivers to the guest (0: no
 *     such device)
 * @param ddwRemoval whether and how a DDW guest takes its 64-bit window away half-way through the RX stream, with
 *     buffers still posted through it, and maps through the default window afterwards
 * @param requestResponse the workload is request/response (TCP_RR-like): the network sends request k only once
 *     response k - 1 is on the wire, and the guest sends response k only once it has received request k (needs as
 *     many TX as RX packets); otherwise both streams flow independently (TCP_STREAM-like)
 * @param diskRequests requests a virtio-blk disk on the same PHB (QEMU's own device, so not through vhost) serves over
 *     the run, spread over the network traffic: the guest maps each request's buffers in the same window and the same
 *     IOVA pools as virtio-net's (0: no such disk)
 * @param faults fault injection (mutations, {@link Fault}), none by default
 * @param guestPageKib the guest kernel's page size: 64 (a ppc64 kernel's default, {@code PPC_64K_PAGES}) or 4
 * @param hostileGuest besides its traffic, the guest may make one call of {@link tcesim.guest.HostileHcall}'s
 *     adversarial set at any point between its driver's activities
 * @param qemu the QEMU release (4.2 the seed's, 5.2, current): what vhost's IOMMU notifier hears
 * @param rxBuffers how the guest's virtio-net driver lays out its receive buffers: cut from page fragments as Linux
 *     does with mergeable buffers, or one page each (the simplification small checks may use)
 */
public record StackConfig(HostCaps host, Design design, FirmwareFeatures fw, int vcpus, long ramBytes, long windowBytes,
                          int maxIotlbEntries, long rxPackets, long txPackets, int packetBytes, int ringSize,
                          boolean kernelChurn, int rxRevokes, long passthroughPackets, DdwRemoval ddwRemoval, boolean requestResponse, long diskRequests,
                          Faults faults, int guestPageKib, VirtioNetDriver.RxBuffers rxBuffers, boolean hostileGuest,
                          tcesim.qemu.QemuVersion qemu)
        implements java.io.Serializable {

    /**
     * The properties a check watches unless told otherwise: with a hostile guest, those the host owes it whatever it
     * does (host memory, isolation); a guest that scribbles over its own TCEs may break its own DMA.
     */
    public java.util.Set<Violation.Property> defaultProperties() {
        return hostileGuest ? EnumSet.of(Violation.Property.HOST_MEMORY, Violation.Property.ISOLATION)
                : EnumSet.allOf(Violation.Property.class);
    }

    /** How a DDW guest gives its 64-bit window back. */
    public enum DdwRemoval {
        /** It keeps it. */
        NONE,
        /**
         * As Linux's {@code remove_ddw} (arch/powerpc/platforms/pseries/iommu.c): clear the whole window with H_STUFF_TCE
         * ({@code tce_clearrange_multi_pSeriesLP}, 512 TCEs a call, stopping at the first error), then
         * {@code ibm,remove-pe-dma-window}.
         */
        LINUX,
        /** The window goes without being cleared first (a guest reset, or a kernel that does not clear it). */
        WITHOUT_CLEAR
    }

    /** A mutation of one component, planted so that a test sees the oracles catch it; a real run has none. */
    public enum Fault {
        /** QEMU does not forward IOMMU UNMAPs to vhost as INVALIDATE. */
        DROP_INVALIDATE,
        /** vhost translates and copies without holding the virtqueue mutex across both. */
        SKIP_VQ_LOCK,
        /** The PHB's TCE cache is not invalidated after a hardware TCE changes. */
        SKIP_TCE_KILL,
        /** QEMU answers a MISS with an UPDATE of size 0 (a userspace bug vhost must survive). */
        ZERO_SIZE_UPDATE,
        /**
         * A buggy guest maps its first RX buffer with one H_PUT_TCE_INDIRECT of two TCEs at the window's last entry, the
         * second one past the end, and posts the buffer whatever the answer.
         */
        MAP_PAST_WINDOW_END,
        /** KVM's ioba check lets a call end one entry past the window ({@link KvmPolicy.Planted#IOBA_BOUND_ONE_PAST}). */
        KVM_IOBA_BOUND_ONE_PAST,
        /** QEMU's {@code put_tce_emu} lets {@code index == nb_table} through ({@link QemuPolicy.Planted#INDEX_BOUND_ONE_PAST}). */
        QEMU_INDEX_BOUND_ONE_PAST
    }

    /** The faults planted in one run, in {@link Fault} order. */
    public record Faults(Set<Fault> planted) implements java.io.Serializable {
        public static final Faults NONE = new Faults(EnumSet.noneOf(Fault.class));

        public Faults {
            EnumSet<Fault> set = EnumSet.noneOf(Fault.class);
            set.addAll(planted);
            planted = Collections.unmodifiableSet(set);
        }

        public static Faults of(Fault... faults) {
            return new Faults(Set.of(faults));
        }

        public boolean has(Fault f) { return planted.contains(f); }

        /** These faults and {@code f}. */
        public Faults with(Fault f) {
            EnumSet<Fault> set = EnumSet.of(f);
            set.addAll(planted);
            return new Faults(set);
        }
    }

    public static StackConfig seed() {
        return new StackConfig(HostCaps.POWERNV_HV, Design.D0, FirmwareFeatures.MULTI_TCE, 1, 256L << 20, 1L << 30,
                2048, 5000, 5000, 1500, 256, true, 0, 0, DdwRemoval.NONE, false, 0, Faults.NONE, 64, VirtioNetDriver.RxBuffers.MERGEABLE, false,
                tcesim.qemu.QemuVersion.Q4_2);
    }

    /** A field out of range: which one (the record component's name) and why. */
    public record Problem(String field, String message) {}

    /** Checks ranges; returns null or a message naming the field. */
    public String validate() {
        Problem p = problem();
        return p == null ? null : p.message();
    }

    /** Checks ranges; returns null or the first field out of range. */
    public Problem problem() {
        if (vcpus < 1 || vcpus > 8) return new Problem("vcpus", "vcpus must be 1..8, got " + vcpus);
        if (ramBytes < (16L << 20) || ramBytes > (64L << 30) || (ramBytes & 0xfff) != 0) return new Problem("ramBytes", "ram must be 16 MiB..64 GiB in 4 KiB units, got " + ramBytes + " bytes");
        if (windowBytes < (64L << 10) || windowBytes > (1L << 40) || Long.bitCount(windowBytes) != 1) return new Problem("windowBytes", "window must be a power of two from 64 KiB to 1 TiB, got " + windowBytes + " bytes");
        if (maxIotlbEntries < 1 || maxIotlbEntries > (1 << 24)) return new Problem("maxIotlbEntries", "max-iotlb-entries must be 1..16777216, got " + maxIotlbEntries);
        if (rxPackets < 0) return new Problem("rxPackets", "packet counts must not be negative, got " + rxPackets);
        if (txPackets < 0) return new Problem("txPackets", "packet counts must not be negative, got " + txPackets);
        if (packetBytes < 64 || packetBytes > 4096) return new Problem("packetBytes", "packet-bytes must be 64..4096, got " + packetBytes);
        if (ringSize < 2 || ringSize > 4096 || Integer.bitCount(ringSize) != 1) return new Problem("ringSize", "ring-size must be a power of two 2..4096, got " + ringSize);
        if (rxRevokes < 0) return new Problem("rxRevokes", "rx-revokes must not be negative, got " + rxRevokes);
        if (passthroughPackets < 0) return new Problem("passthroughPackets", "passthrough packets must not be negative, got " + passthroughPackets);
        if (diskRequests < 0) return new Problem("diskRequests", "disk-io must not be negative, got " + diskRequests);
        if (requestResponse && rxPackets != txPackets) return new Problem("requestResponse", "a request/response workload needs as many TX as RX packets, got " + rxPackets + " and " + txPackets);
        if (ddwRemoval != DdwRemoval.NONE && !fw.ddw()) {
            return new Problem("ddwRemoval", "ddw-removal " + ddwRemoval.name().toLowerCase(java.util.Locale.ROOT) + " needs a DDW guest (--ddw): a guest without one has no 64-bit window to give back");
        }
        if (passthroughPackets > 0 && fw.ddw()) return new Problem("passthroughPackets", "a passthrough device with a DDW guest is not modelled (its hardware table covers the default window only)");
        if (guestPageKib != 4 && guestPageKib != 64) return new Problem("guestPageKib", "guest page size must be 4 or 64 KiB, got " + guestPageKib);
        if ((ramBytes & ((guestPageKib << 10) - 1)) != 0) return new Problem("ramBytes", "ram must be a whole number of " + guestPageKib + " KiB guest pages");
        if (ramBytes / (guestPageKib << 10) > Integer.MAX_VALUE) return new Problem("ramBytes", "too many guest pages");
        return null;
    }

    public Builder toBuilder() { return new Builder(this); }

    public StackConfig withDesign(Design d) { return toBuilder().design(d).build(); }
    public StackConfig withHost(HostCaps h) { return toBuilder().host(h).build(); }
    public StackConfig withFw(FirmwareFeatures f) { return toBuilder().fw(f).build(); }
    public StackConfig withVcpus(int v) { return toBuilder().vcpus(v).build(); }
    public StackConfig withMaxIotlbEntries(int n) { return toBuilder().maxIotlbEntries(n).build(); }
    public StackConfig withPackets(long rx, long tx) { return toBuilder().rxPackets(rx).txPackets(tx).build(); }
    public StackConfig withWindow(long bytes) { return toBuilder().windowBytes(bytes).build(); }
    public StackConfig withRing(int n) { return toBuilder().ringSize(n).build(); }
    public StackConfig withFaults(Faults f) { return toBuilder().faults(f).build(); }

    /** A mutable copy of a configuration, one setter per field. */
    public static final class Builder {
        private HostCaps host;
        private Design design;
        private FirmwareFeatures fw;
        private int vcpus;
        private long ramBytes;
        private long windowBytes;
        private int maxIotlbEntries;
        private long rxPackets;
        private long txPackets;
        private int packetBytes;
        private int ringSize;
        private boolean kernelChurn;
        private int rxRevokes;
        private long passthroughPackets;
        private DdwRemoval ddwRemoval;
        private boolean requestResponse;
        private long diskRequests;
        private Faults faults;
        private int guestPageKib;
        private VirtioNetDriver.RxBuffers rxBuffers;
        private boolean hostileGuest;
        private tcesim.qemu.QemuVersion qemu;

        private Builder(StackConfig c) {
            host = c.host;
            design = c.design;
            fw = c.fw;
            vcpus = c.vcpus;
            ramBytes = c.ramBytes;
            windowBytes = c.windowBytes;
            maxIotlbEntries = c.maxIotlbEntries;
            rxPackets = c.rxPackets;
            txPackets = c.txPackets;
            packetBytes = c.packetBytes;
            ringSize = c.ringSize;
            kernelChurn = c.kernelChurn;
            rxRevokes = c.rxRevokes;
            passthroughPackets = c.passthroughPackets;
            ddwRemoval = c.ddwRemoval;
            requestResponse = c.requestResponse;
            diskRequests = c.diskRequests;
            faults = c.faults;
            guestPageKib = c.guestPageKib;
            rxBuffers = c.rxBuffers;
            hostileGuest = c.hostileGuest;
            qemu = c.qemu;
        }

        public Builder host(HostCaps v) { host = v; return this; }
        public Builder design(Design v) { design = v; return this; }
        public Builder fw(FirmwareFeatures v) { fw = v; return this; }
        public Builder vcpus(int v) { vcpus = v; return this; }
        public Builder ramBytes(long v) { ramBytes = v; return this; }
        public Builder windowBytes(long v) { windowBytes = v; return this; }
        public Builder maxIotlbEntries(int v) { maxIotlbEntries = v; return this; }
        public Builder rxPackets(long v) { rxPackets = v; return this; }
        public Builder txPackets(long v) { txPackets = v; return this; }
        public Builder packetBytes(int v) { packetBytes = v; return this; }
        public Builder ringSize(int v) { ringSize = v; return this; }
        public Builder kernelChurn(boolean v) { kernelChurn = v; return this; }
        public Builder rxRevokes(int v) { rxRevokes = v; return this; }
        public Builder passthroughPackets(long v) { passthroughPackets = v; return this; }
        public Builder ddwRemoval(DdwRemoval v) { ddwRemoval = v; return this; }
        public Builder requestResponse(boolean v) { requestResponse = v; return this; }
        public Builder diskRequests(long v) { diskRequests = v; return this; }
        public Builder faults(Faults v) { faults = v; return this; }
        public Builder guestPageKib(int v) { guestPageKib = v; return this; }
        public Builder rxBuffers(VirtioNetDriver.RxBuffers v) { rxBuffers = v; return this; }
        public Builder hostileGuest(boolean v) { hostileGuest = v; return this; }
        public Builder qemu(tcesim.qemu.QemuVersion v) { qemu = v; return this; }

        public StackConfig build() {
            return new StackConfig(host, design, fw, vcpus, ramBytes, windowBytes, maxIotlbEntries, rxPackets, txPackets,
                    packetBytes, ringSize, kernelChurn, rxRevokes, passthroughPackets, ddwRemoval, requestResponse, diskRequests, faults,
                    guestPageKib, rxBuffers, hostileGuest, qemu);
        }
    }
}
