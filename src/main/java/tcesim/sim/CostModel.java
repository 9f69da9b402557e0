package tcesim.sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The price of each kind of work, in simulated nanoseconds: a table of named parameters, each with the
 * public source of its default or the plain statement that it is an estimate and why. Users override any
 * of them ({@link #with}); everything downstream (ledger, throughput, latency) follows from the table.
 */
public final class CostModel {
    /** One named parameter. */
    public record Param(String name, double defaultNs, String unit, String source) {}

    /** The parameters, in a fixed order. */
    public static final Map<String, Param> PARAMS = new LinkedHashMap<>();

    private static void p(String name, double ns, String unit, String source) {
        PARAMS.put(name, new Param(name, ns, unit, source));
    }

    static {
        p("hcall.realmode", 600, "ns per hypercall",
                "estimate: entering KVM's real-mode handler, which finishes the call without a partition switch on POWER8 ('KVM: PPC: Handle some PAPR hcalls"
                + " in the kernel', 2011: it avoids 'two partition switches') and punts a radix guest's call at once on POWER9; put at a quarter of a"
                + " virtual-mode hypercall. No public figure found for TCE hypercalls.");
        p("hcall.virtmode", 2400, "ns per hypercall",
                "derived from N. Piggin's 'KVM: PPC: Book3S HV P9' entry/exit series (2021), which measured a POWER9 virt-mode NULL hcall at about 9000"
                + " cycles before its optimisations (8982 in one patch; about 5800 after): 2.4 us at 3.8 GHz. The 2019 kernels ran the slower path.");
        p("exit.qemu", 8000, "ns per hypercall",
                "estimate: a full exit to QEMU (KVM_RUN returns, QEMU dispatches spapr_hypercall under the BQL, re-enters); several microseconds. No public measurement found.");
        p("tce.kill", 6100, "ns per kill",
                "derived from 'KVM: PPC: Invalidate multiple TCEs at once' (Kardashevskiy, Aug 2019): one kill per hypercall instead of per TCE took mapping"
                + " a guest's 100 GB of DMA space from ~20 s to ~10 s, time spent 'in the host system firmware which does actual TCE cache updates';"
                + " with 64 KiB hardware pages ('KVM: PPC: Fix TCE handling for VFIO', 2022) that is 10 s over 1.64 M kills. An upper bound (POWER9,"
                + " OPAL call); a POWER8 PHB3 kill is a register store and likely far cheaper.");
        p("iotlb.miss", 15000, "ns per miss",
                "estimate: vhost queues a MISS, wakes QEMU's main loop, which read()s it, translates, write()s an UPDATE and vhost re-kicks the queue: two"
                + " system calls and two wake-ups, spent in QEMU's main loop. For context only: the s390 thread of Feb 2020 ('virtio: let virtio use DMA"
                + " API when guest RAM is protected') reports a whole workload about 10x slower with vhost's IOTLB where no IOMMU is needed.");
        p("iotlb.miss.queued", 3000, "ns per miss",
                "estimate: a MISS QEMU reads while already awake (vhost_kernel_iotlb_read loops over every queued message): a read() and a write() on"
                + " the vhost fd and the translation, without the wake-ups. vhost queues a MISS each time it retries a stalled queue (no deduplication"
                + " in vhost_iotlb_miss), so these come in bursts.");
        p("iotlb.invalidate", 2000, "ns per INVALIDATE",
                "estimate: a write() on the vhost fd processed under the device mutex and every virtqueue mutex. For context only (bare metal, a hardware"
                + " IOMMU, not vhost): Amit et al., 'vIOMMU: Efficient IOMMU Emulation' (USENIX ATC 2011), measured strict per-unmap invalidation at 43% of"
                + " 10 GbE line rate against 91% deferred.");
        p("eventfd", 3000, "ns per signal",
                "estimate: eventfd_signal in KVM plus the wake-up and read() in QEMU's main loop.");
        p("copy.byte", 0.1, "ns per byte",
                "estimate: a memory copy at about 10 GB/s.");
        p("wire.byte", 0.8, "ns per byte on the wire",
                "derived from the 10 GbE line rate: 8 bits per byte at 10 Gbit/s; a frame also takes 38 bytes of preamble, header, FCS and inter-frame gap. RX packets reach the tap no faster.");
        p("vhost.packet", 1000, "ns per packet",
                "estimate: vhost-net's per-descriptor work besides the copy (ring access, used-ring update, notification).");
        p("guest.packet", 2000, "ns per packet",
                "estimate: the guest driver and network stack per packet besides DMA mapping.");
        p("guest.kick", 2400, "ns per kick",
                "estimate: the guest's write to the virtqueue's notify register traps to KVM in virtual mode (a hypervisor data storage"
                + " interrupt), which matches it against vhost's ioeventfd and signals the kick eventfd without leaving the kernel; priced as one"
                + " virtual-mode hypercall (hcall.virtmode). No public POWER figure found.");
        p("guest.interrupt", 2000, "ns per interrupt",
                "estimate: vhost signals the call eventfd, KVM's irqfd injects the interrupt, and the guest's vring_interrupt runs and schedules"
                + " NAPI; about a virtual-mode exit's worth of work. No public POWER figure found.");
        p("qemu.blk.request", 10000, "ns per request",
                "estimate: QEMU's virtio-blk work per request besides the copies: the wake-up of its thread by the guest's notification"
                + " (an ioeventfd), virtqueue_pop with its IOMMU translations, the submission and completion of the I/O on an image in the"
                + " host's page cache, the used-ring update and the interrupt through an irqfd. No public figure found for POWER.");
    }

    private final Map<String, Double> values = new LinkedHashMap<>();

    private CostModel() {
        PARAMS.forEach((k, v) -> values.put(k, v.defaultNs()));
    }

    public static CostModel defaults() { return new CostModel(); }

    /** A copy with {@code name} set to {@code ns}; unknown names and negative or non-finite values are rejected. */
    /**
     * The largest cost of one event, 1000 s: far above any real one, and small enough that a run's sums (at most some
     * 10^9 events) stay finite, so no figure comes out as Infinity or NaN.
     */
    public static final double MAX_NS = 1e12;

    public CostModel with(String name, double ns) {
        if (!PARAMS.containsKey(name)) throw new IllegalArgumentException("unknown cost parameter '" + name + "'; known: " + String.join(", ", PARAMS.keySet()));
        if (!(ns >= 0) || ns > MAX_NS) {
            throw new IllegalArgumentException("cost parameter '" + name + "' must be 0 to " + (long) MAX_NS + " ns (1000 s), got " + ns);
        }
        CostModel c = new CostModel();
        c.values.putAll(values);
        c.values.put(name, ns);
        return c;
    }

    public double get(String name) {
        Double v = values.get(name);
        if (v == null) throw new IllegalArgumentException("unknown cost parameter '" + name + "'");
        return v;
    }

    public Map<String, Double> values() { return java.util.Collections.unmodifiableMap(values); }
}
