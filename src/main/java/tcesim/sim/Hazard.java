package tcesim.sim;

import java.util.EnumSet;
import java.util.Set;
import tcesim.guest.FirmwareFeatures;

/**
 * The hazards next to the seed's bug (spec 03, last paragraph), each a named scenario: a change of the
 * guest, of userspace or of the kernel version applied to any configuration, and the properties to judge
 * it by. The checker and {@code repro} run them under every design.
 */
public enum Hazard {
    OVERWRITE_WITHOUT_CLEAR("valid->valid overwrite without a clear: the guest never clears and maps over valid TCEs; vhost's UNMAP-only notifier hears nothing",
            Props.SAFETY),
    RO_CACHED_RW("read-only TCE cached RW: QEMU answers every MISS with an RW entry, so a device read miss lets later writes through a read-only TCE"
            + " (reached when the guest takes a posted RX buffer back and its IOVA returns as a TX buffer)", Props.SAFETY),
    WINDOW_REMOVAL("DMA window removal without INVALIDATE: a DDW guest's 64-bit window goes, without being cleared first (a reset), while"
            + " buffers are posted through it; QEMU drops the IOMMU region and vhost keeps its translations (Linux's remove_ddw clears the window"
            + " first: see --ddw-removal linux)", Props.SAFETY),
    PARTIAL_FAILURE("partial failure of a multi-TCE hypercall: a buggy guest maps a buffer with one H_PUT_TCE_INDIRECT of two TCEs at the"
            + " window's last entry; KVM on 2019 and 2022 kernels checks the first entry only and writes the second past the window, which"
            + " here fills its table pages (8192 entries), so past KVM's stt->pages[] array (host memory); a current KVM refuses the whole call, QEMU writes the first TCE and then fails; the guest posts the buffer whatever"
            + " the answer, so the device finds it mapped or not depending on where the call ran", Props.ALL),
    MISS_ON_CLEARED("a miss on a cleared TCE stalls the queue: the guest takes a posted buffer back, vhost misses on it, QEMU finds no"
            + " translation and sends nothing", Props.ALL),
    UPDATE_SIZE_0("UPDATE of size 0: a buggy userspace answers misses with size-0 UPDATEs; vhost refuses them in both eras the model has"
            + " (late 2019: -EFAULT, \"vhost: reject zero size iova range\", v5.1; v5.17 on: -EINVAL, e2ae38cf3d91); only v5.7 to"
            + " v5.16 accepted them (0bbe30668d89)",
            Props.ALL);

    private static final class Props {
        static final Set<Violation.Property> SAFETY = EnumSet.of(Violation.Property.STALE_ACCESS, Violation.Property.CORRUPTION, Violation.Property.ISOLATION);
        static final Set<Violation.Property> ALL = EnumSet.allOf(Violation.Property.class);
    }

    private final String description;
    private final Set<Violation.Property> properties;

    Hazard(String description, Set<Violation.Property> properties) {
        this.description = description;
        this.properties = properties;
    }

    public String description() { return description; }

    /** The properties the hazard is judged by: for hazards built on a misbehaving guest, the queue stall it causes is expected and only safety counts. */
    public Set<Violation.Property> properties() { return EnumSet.copyOf(properties); }

    public String label() { return name().toLowerCase().replace('_', '-'); }

    /** The configuration with the hazard in it. */
    public StackConfig apply(StackConfig c) {
        FirmwareFeatures f = c.fw();
        StackConfig.Builder b = c.toBuilder();
        switch (this) {
            case OVERWRITE_WITHOUT_CLEAR -> b.fw(new FirmwareFeatures(f.putTceIndirect(), f.stuffTce(), f.ddw(), false));
            case RO_CACHED_RW, MISS_ON_CLEARED -> b.rxRevokes(Math.max(1, c.rxRevokes())).txPackets(Math.max(2, c.txPackets()));
            case WINDOW_REMOVAL -> b.fw(new FirmwareFeatures(f.putTceIndirect(), f.stuffTce(), true, f.clearOnUnmap()))
                    .ddwRemoval(StackConfig.DdwRemoval.WITHOUT_CLEAR).rxPackets(Math.max(2, c.rxPackets()));
            case UPDATE_SIZE_0 -> b.faults(c.faults().with(StackConfig.Fault.ZERO_SIZE_UPDATE));
            case PARTIAL_FAILURE -> b.fw(new FirmwareFeatures(true, f.stuffTce(), false, f.clearOnUnmap()))
                    .faults(c.faults().with(StackConfig.Fault.MAP_PAST_WINDOW_END)).windowBytes(wholeTablePages(c.windowBytes()));
        }
        return b.build();
    }

    /**
     * A default window of {@code bytes} or more that fills KVM's table pages exactly ({@code TCES_PER_PAGE} 4 KiB TCEs a
     * page): past its last entry there is no slack of KVM's own, and the next index reads {@code stt->pages[]} past the
     * array, as on the default 1 GiB window. On a smaller window the overrun stays in the last page's slack.
     */
    public static long wholeTablePages(long bytes) {
        long page = (long) tcesim.papr.TceTable.CHUNK_ENTRIES << 12;
        return (bytes + page - 1) / page * page;
    }

    public static Hazard byLabel(String s) {
        for (Hazard h : values()) if (h.label().equalsIgnoreCase(s) || h.name().equalsIgnoreCase(s)) return h;
        return null;
    }
}
