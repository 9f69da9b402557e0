package tcesim.vfio;

import tcesim.mem.GuestMemory;
import tcesim.papr.Tce;
import tcesim.vfio.DmaResult.Status;

/**
 * The DMA engine of a PCI device passed through to the guest with VFIO, seen from the PHB.
 *
 * <p>Models the inbound DMA path of a POWER PHB for a PE whose 32-bit window uses a TCE table: the bus
 * address selects entry {@code iova >> page_shift}; the PHB looks the entry up in its TCE cache
 * ({@link PhbTceCache}) and, on a miss, fetches it from the hardware table ({@link HwTceTable}) and
 * caches it. The access is checked against the entry's permission bits ({@code TCE_PCI_READ} for a
 * device read of memory, {@code TCE_PCI_WRITE} for a device write).
 *
 * <p>Failures are reported, never thrown: an invalid entry, a missing permission or an address outside
 * the window freezes the PE, as EEH does on PowerNV (<i>modelled</i>: the model does not distinguish
 * the PHB's error classes); until {@link #clearFreeze()} (EEH recovery) every DMA returns
 * {@link Status#FROZEN}. An access spanning IOMMU pages is translated page by page; pages before a
 * faulting one are performed, as the transaction's earlier parts would be.
 *
 * <p>With a {@link GuestMemory} attached, the data variants move bytes to or from guest RAM at the
 * translated address, so corruption is observable in memory; without it the device only translates.
 */
public final class PassthroughDevice implements tcesim.state.Snapshot {
    private final PhbTceCache cache;
    private final HwTceTable table;
    private final GuestMemory mem;
    private boolean frozen;
    private long dmas, faults, cachedTranslations, fetchedTranslations;

    /** A device that translates only. */
    public PassthroughDevice(PhbTceCache cache, HwTceTable table) {
        this(cache, table, null);
    }

    /** A device that moves data to and from {@code mem} (may be null). */
    public PassthroughDevice(PhbTceCache cache, HwTceTable table, GuestMemory mem) {
        this.cache = cache;
        this.table = table;
        this.mem = mem;
    }

    /** The device writes {@code len} bytes to memory at {@code iova} (needs TCE_PCI_WRITE). */
    public DmaResult dmaWrite(long iova, int len) {
        return access(true, iova, len, null, 0);
    }

    /** The device reads {@code len} bytes from memory at {@code iova} (needs TCE_PCI_READ). */
    public DmaResult dmaRead(long iova, int len) {
        return access(false, iova, len, null, 0);
    }

    /** {@link #dmaWrite(long, int)} storing {@code src[off, off + len)} in guest memory. */
    public DmaResult dmaWrite(long iova, byte[] src, int off, int len) {
        return access(true, iova, len, src, off);
    }

    /** {@link #dmaRead(long, int)} loading guest memory into {@code dst[off, off + len)}. */
    public DmaResult dmaRead(long iova, byte[] dst, int off, int len) {
        return access(false, iova, len, dst, off);
    }

    private DmaResult access(boolean write, long iova, int len, byte[] buf, int off) {
        if (len < 0) throw new IllegalArgumentException("negative DMA length " + len);
        if (buf != null && (off < 0 || off > buf.length - len)) throw new IllegalArgumentException("buffer range out of bounds");
        dmas++;
        if (frozen) {
            faults++;
            return new DmaResult(Status.FROZEN, write, iova, len, 0, null, null, null, null, null, null, -1, 0);
        }
        int shift = table.pageShift();
        long pageSize = 1L << shift;
        int maxSeg = len == 0 ? 0 : (int) (((iova & (pageSize - 1)) + len - 1 >>> shift) + 1);
        long[] sIova = new long[maxSeg];
        int[] sLen = new int[maxSeg];
        long[] sTce = new long[maxSeg];
        long[] sHpa = new long[maxSeg];
        long[] sGpa = new long[maxSeg];
        boolean[] sCached = new boolean[maxSeg];
        int need = (int) (write ? Tce.WRITE : Tce.READ);
        long a = iova;
        int left = len;
        int n = 0;
        while (left > 0) {
            long inPage = a & (pageSize - 1);
            int chunk = (int) Math.min(left, pageSize - inPage);
            long idx = a >>> shift;
            if (a < 0 || !table.contains(idx)) return fault(Status.OUT_OF_WINDOW, write, iova, len, n, sIova, sLen, sTce, sHpa, sGpa, sCached, a, 0);
            long tce = cache.lookup(idx);
            boolean fromCache = tce != PhbTceCache.MISS;
            if (!fromCache) {
                tce = table.get(idx);
                cache.fill(idx, tce);
            }
            if (!Tce.valid(tce)) return fault(Status.INVALID_TCE, write, iova, len, n, sIova, sLen, sTce, sHpa, sGpa, sCached, a, tce);
            if ((Tce.perm(tce) & need) == 0) return fault(Status.PERMISSION, write, iova, len, n, sIova, sLen, sTce, sHpa, sGpa, sCached, a, tce);
            long hpa = Tce.gpa(tce) + inPage;
            long gpa = table.toGpa(hpa);
            if (fromCache) cachedTranslations++;
            else fetchedTranslations++;
            sIova[n] = a;
            sLen[n] = chunk;
            sTce[n] = tce;
            sHpa[n] = hpa;
            sGpa[n] = gpa;
            sCached[n] = fromCache;
            n++;
            if (mem != null && !mem.contains(gpa, chunk)) {
                // The hardware would have accessed host memory that is not the guest's: report, move nothing.
                faults++;
                return new DmaResult(Status.OUTSIDE_GUEST_RAM, write, iova, len, n, sIova, sLen, sTce, sHpa, sGpa, sCached, a, tce);
            }
            if (mem != null && buf != null) {
                int bo = off + (len - left);
                if (write) mem.write(gpa, buf, bo, chunk);
                else mem.read(gpa, buf, bo, chunk);
            }
            a += chunk;
            left -= chunk;
        }
        return new DmaResult(Status.OK, write, iova, len, n, sIova, sLen, sTce, sHpa, sGpa, sCached, -1, 0);
    }

    private DmaResult fault(Status st, boolean write, long iova, int len, int n, long[] sIova, int[] sLen, long[] sTce, long[] sHpa,
            long[] sGpa, boolean[] sCached, long at, long tce) {
        frozen = true;
        faults++;
        return new DmaResult(st, write, iova, len, n, sIova, sLen, sTce, sHpa, sGpa, sCached, at, tce);
    }

    /** True once a DMA fault froze the PE. */
    public boolean frozen() { return frozen; }

    /** EEH recovery: the PE accepts DMA again. */
    public void clearFreeze() { frozen = false; }

    public long dmas() { return dmas; }
    public long faults() { return faults; }
    /** Page translations served from the PHB TCE cache. */
    public long cachedTranslations() { return cachedTranslations; }
    /** Page translations fetched from the hardware table. */
    public long fetchedTranslations() { return fetchedTranslations; }

    /** The device's own state (frozen or not); the cache and table are saved by their owner, counters are bookkeeping. */
    @Override
    public void save(tcesim.state.StateWriter out) { out.put(frozen); }

    @Override
    public void restore(tcesim.state.StateReader in) { frozen = in.nextBool(); }
}
