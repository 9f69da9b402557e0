package tcesim.sim;

import tcesim.guest.FirmwareFeatures;
import tcesim.kvm.HostCaps;

/**
 * Everything that defines one run of the stack. The defaults are the seed's configuration: a PowerNV
 * host with HV-KVM, a guest without DDW on the default 1 GiB window of 4 KiB TCEs, virtio-net on vhost
 * with ACCESS_PLATFORM, netperf-like RX and TX.
 *
 * @param host host kernel capabilities
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
 * @param faults fault injection (mutations), none by default
 */
public record StackConfig(HostCaps host, Design design, FirmwareFeatures fw, int vcpus, long ramBytes, long windowBytes,
                          int maxIotlbEntries, long rxPackets, long txPackets, int packetBytes, int ringSize,
                          boolean kernelChurn, Faults faults) {

    /** Mutations the oracles must catch. */
    public record Faults(boolean dropInvalidate, boolean skipVqLock) {
        public static final Faults NONE = new Faults(false, false);
    }

    public static StackConfig seed() {
        return new StackConfig(HostCaps.POWERNV_HV, Design.D0, FirmwareFeatures.MULTI_TCE, 1, 256L << 20, 1L << 30,
                2048, 5000, 5000, 1500, 256, true, Faults.NONE);
    }

    /** Checks ranges; returns null or a message naming the field. */
    public String validate() {
        if (vcpus < 1 || vcpus > 8) return "vcpus must be 1..8, got " + vcpus;
        if (ramBytes < (16L << 20) || ramBytes > (64L << 30) || (ramBytes & 0xfff) != 0) return "ram must be 16 MiB..64 GiB in 4 KiB units, got " + ramBytes;
        if (windowBytes < (1L << 20) || windowBytes > (1L << 40) || Long.bitCount(windowBytes) != 1) return "window must be a power of two from 1 MiB to 1 TiB, got " + windowBytes;
        if (maxIotlbEntries < 1 || maxIotlbEntries > (1 << 24)) return "max-iotlb-entries must be 1..16777216, got " + maxIotlbEntries;
        if (rxPackets < 0 || txPackets < 0) return "packet counts must not be negative";
        if (packetBytes < 64 || packetBytes > 4096) return "packet-bytes must be 64..4096, got " + packetBytes;
        if (ringSize < 2 || ringSize > 4096 || Integer.bitCount(ringSize) != 1) return "ring-size must be a power of two 2..4096, got " + ringSize;
        return null;
    }

    public StackConfig withDesign(Design d) { return new StackConfig(host, d, fw, vcpus, ramBytes, windowBytes, maxIotlbEntries, rxPackets, txPackets, packetBytes, ringSize, kernelChurn, faults); }
    public StackConfig withHost(HostCaps h) { return new StackConfig(h, design, fw, vcpus, ramBytes, windowBytes, maxIotlbEntries, rxPackets, txPackets, packetBytes, ringSize, kernelChurn, faults); }
    public StackConfig withFw(FirmwareFeatures f) { return new StackConfig(host, design, f, vcpus, ramBytes, windowBytes, maxIotlbEntries, rxPackets, txPackets, packetBytes, ringSize, kernelChurn, faults); }
    public StackConfig withVcpus(int v) { return new StackConfig(host, design, fw, v, ramBytes, windowBytes, maxIotlbEntries, rxPackets, txPackets, packetBytes, ringSize, kernelChurn, faults); }
    public StackConfig withMaxIotlbEntries(int n) { return new StackConfig(host, design, fw, vcpus, ramBytes, windowBytes, n, rxPackets, txPackets, packetBytes, ringSize, kernelChurn, faults); }
    public StackConfig withPackets(long rx, long tx) { return new StackConfig(host, design, fw, vcpus, ramBytes, windowBytes, maxIotlbEntries, rx, tx, packetBytes, ringSize, kernelChurn, faults); }
    public StackConfig withWindow(long bytes) { return new StackConfig(host, design, fw, vcpus, ramBytes, bytes, maxIotlbEntries, rxPackets, txPackets, packetBytes, ringSize, kernelChurn, faults); }
    public StackConfig withRing(int n) { return new StackConfig(host, design, fw, vcpus, ramBytes, windowBytes, maxIotlbEntries, rxPackets, txPackets, packetBytes, n, kernelChurn, faults); }
    public StackConfig withFaults(Faults f) { return new StackConfig(host, design, fw, vcpus, ramBytes, windowBytes, maxIotlbEntries, rxPackets, txPackets, packetBytes, ringSize, kernelChurn, f); }
}
