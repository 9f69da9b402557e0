package tcesim.vfio;

import tcesim.papr.Tce;

/**
 * The outcome of one DMA by the passthrough device: status and, for each IOMMU page the access touched
 * before it finished or faulted, the translation the PHB used and whether it came from the TCE cache.
 *
 * <p>Models what the PHB did for the device's DMA transaction(s); there is no single kernel structure
 * for it. An oracle compares {@link #tce(int)} / {@link #gpa(int)} with the guest table's current entry
 * for {@link #iova(int)} (mind {@link HwTceTable#hwPerm(int)}: WRITE implies READ in hardware).
 */
public final class DmaResult {
    /** How the access ended. */
    public enum Status {
        /** Every page translated with the needed permission; data moved. */
        OK,
        /** The PE was already frozen by an earlier fault: nothing moved. */
        FROZEN,
        /** The IOVA lies outside the DMA window: PE frozen. */
        OUT_OF_WINDOW,
        /** The TCE for a page has no permission bit: PE frozen. */
        INVALID_TCE,
        /** The TCE lacks the direction's permission bit: PE frozen. */
        PERMISSION,
        /**
         * The TCE translated to a host address outside guest RAM and the hardware let it through: an
         * isolation breach to report. Nothing is written to the guest's memory model.
         */
        OUTSIDE_GUEST_RAM;

        public boolean isFault() { return this != OK; }
    }

    private final Status status;
    private final boolean write;
    private final long iova;
    private final int len;
    private final int segments;
    private final long[] segIova;
    private final int[] segLen;
    private final long[] segTce;
    private final long[] segHpa;
    private final long[] segGpa;
    private final boolean[] segFromCache;
    private final long faultIova;
    private final long faultTce;

    DmaResult(Status status, boolean write, long iova, int len, int segments, long[] segIova, int[] segLen, long[] segTce,
            long[] segHpa, long[] segGpa, boolean[] segFromCache, long faultIova, long faultTce) {
        this.status = status;
        this.write = write;
        this.iova = iova;
        this.len = len;
        this.segments = segments;
        this.segIova = segIova;
        this.segLen = segLen;
        this.segTce = segTce;
        this.segHpa = segHpa;
        this.segGpa = segGpa;
        this.segFromCache = segFromCache;
        this.faultIova = faultIova;
        this.faultTce = faultTce;
    }

    public Status status() { return status; }
    public boolean ok() { return status == Status.OK; }
    public boolean isWrite() { return write; }
    /** The access as requested. */
    public long iova() { return iova; }
    public int length() { return len; }

    /** Pages translated successfully (before a fault, if any; for OUTSIDE_GUEST_RAM the last one is the breaching page). */
    public int segments() { return segments; }
    /** First IOVA of segment {@code i}. */
    public long iova(int i) { return segIova[check(i)]; }
    public int length(int i) { return segLen[check(i)]; }
    /** The TCE the PHB used for segment {@code i} (host physical address | hardware permission). */
    public long tce(int i) { return segTce[check(i)]; }
    /** Host physical address of segment {@code i}'s first byte. */
    public long hpa(int i) { return segHpa[check(i)]; }
    /** Guest physical address of segment {@code i}'s first byte (hpa minus the RAM block base). */
    public long gpa(int i) { return segGpa[check(i)]; }
    /** True when segment {@code i}'s translation came from the PHB TCE cache, false when fetched from the table. */
    public boolean fromCache(int i) { return segFromCache[check(i)]; }

    /** The IOVA that faulted, or -1. */
    public long faultIova() { return faultIova; }
    /** The entry seen at the fault (cached or fetched; 0 when invalid or out of window), or 0. */
    public long faultTce() { return faultTce; }

    private int check(int i) {
        if (i < 0 || i >= segments) throw new IndexOutOfBoundsException("segment " + i + " of " + segments);
        return i;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(write ? "DMA write " : "DMA read ").append(String.format("[0x%x, +%d) %s", iova, len, status));
        for (int i = 0; i < segments; i++)
            sb.append(String.format(" {0x%x -> gpa 0x%x%s}", segIova[i], segGpa[i], segFromCache[i] ? " cached" : ""));
        if (status.isFault() && faultIova >= 0) sb.append(String.format(" fault at 0x%x tce=%s", faultIova, Tce.describe(faultTce)));
        return sb.toString();
    }
}
