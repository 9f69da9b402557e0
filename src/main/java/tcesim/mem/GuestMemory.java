package tcesim.mem;

/**
 * The guest's physical memory: one RAM slot from guest physical address 0.
 *
 * <p>Models what KVM knows as a memslot ({@code kvm_memory_slot}: guest frame numbers to a userspace
 * address, looked up by {@code kvmppc_tce_to_ua} / {@code gfn_to_memslot}) and QEMU as the RAM block
 * behind it ({@code memory_region_get_ram_ptr}): the same bytes seen at guest physical address
 * {@code gpa} and at QEMU/vhost user address {@link #hvaBase()} + gpa.
 *
 * <p>Storage is sparse at 4 KiB granularity: a page costs memory only once written, so a 64 GiB guest
 * costs nothing until used. Multi-byte reads are big-endian, as a POWER guest stores its TCE lists
 * for H_PUT_TCE_INDIRECT (KVM reads them with {@code be64_to_cpu}, QEMU with {@code ldq_be_phys}).
 */
public final class GuestMemory {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    public static final long MAX_RAM = 64L << 30;
    /** Where QEMU's mapping of guest RAM starts in its address space (the value is arbitrary, page aligned and high). */
    public static final long DEFAULT_HVA_BASE = 0x7fff_0000_0000L;

    private static final int DIR_SHIFT = 12;
    private static final int DIR_SIZE = 1 << DIR_SHIFT;

    private final long ramBytes;
    private final long hvaBase;
    private final byte[][][] dir;
    private long pagesBacked;

    public GuestMemory(long ramBytes) {
        this(ramBytes, DEFAULT_HVA_BASE);
    }

    public GuestMemory(long ramBytes, long hvaBase) {
        if (ramBytes <= 0 || ramBytes > MAX_RAM || (ramBytes & (PAGE_SIZE - 1)) != 0)
            throw new IllegalArgumentException("guest RAM size " + ramBytes + " must be a positive multiple of 4 KiB up to 64 GiB");
        this.ramBytes = ramBytes;
        this.hvaBase = hvaBase;
        long pages = ramBytes >>> PAGE_SHIFT;
        this.dir = new byte[(int) ((pages + DIR_SIZE - 1) >>> DIR_SHIFT)][][];
    }

    public long ramBytes() { return ramBytes; }
    public long pages() { return ramBytes >>> PAGE_SHIFT; }
    public long hvaBase() { return hvaBase; }

    /** True when {@code [gpa, gpa + len)} lies in guest RAM (len >= 0, no wrap). */
    public boolean contains(long gpa, long len) {
        return gpa >= 0 && len >= 0 && gpa <= ramBytes && len <= ramBytes - gpa;
    }

    /** The user address QEMU and vhost use for {@code gpa}. */
    public long gpaToHva(long gpa) { return hvaBase + gpa; }

    /** True when {@code [hva, hva + len)} lies in QEMU's mapping of guest RAM. */
    public boolean containsHva(long hva, long len) {
        long gpa = hva - hvaBase;
        return hva >= hvaBase && contains(gpa, len);
    }

    public long hvaToGpa(long hva) { return hva - hvaBase; }

    public long readLongBE(long gpa) {
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (readByte(gpa + i) & 0xff);
        return v;
    }

    public void writeLongBE(long gpa, long v) {
        for (int i = 7; i >= 0; i--) {
            writeByte(gpa + i, (byte) v);
            v >>>= 8;
        }
    }

    /** A little-endian field of {@code bytes} (1..8) bytes: virtio 1 structures are little-endian. */
    public long readLE(long gpa, int bytes) {
        long v = 0;
        for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | (readByte(gpa + i) & 0xff);
        return v;
    }

    /** Writes the low {@code bytes} (1..8) bytes of {@code v}, little-endian. */
    public void writeLE(long gpa, long v, int bytes) {
        for (int i = 0; i < bytes; i++) writeByte(gpa + i, (byte) (v >>> (8 * i)));
    }

    public byte readByte(long gpa) {
        check(gpa, 1);
        byte[] p = page(gpa >>> PAGE_SHIFT, false);
        return p == null ? 0 : p[(int) (gpa & (PAGE_SIZE - 1))];
    }

    public void writeByte(long gpa, byte b) {
        check(gpa, 1);
        byte[] p = page(gpa >>> PAGE_SHIFT, b != 0);
        if (p != null) p[(int) (gpa & (PAGE_SIZE - 1))] = b;
    }

    public void read(long gpa, byte[] dst, int off, int len) {
        check(gpa, len);
        while (len > 0) {
            int inPage = (int) (gpa & (PAGE_SIZE - 1));
            int n = Math.min(len, PAGE_SIZE - inPage);
            byte[] p = page(gpa >>> PAGE_SHIFT, false);
            if (p == null) java.util.Arrays.fill(dst, off, off + n, (byte) 0);
            else System.arraycopy(p, inPage, dst, off, n);
            gpa += n;
            off += n;
            len -= n;
        }
    }

    public void write(long gpa, byte[] src, int off, int len) {
        check(gpa, len);
        while (len > 0) {
            int inPage = (int) (gpa & (PAGE_SIZE - 1));
            int n = Math.min(len, PAGE_SIZE - inPage);
            System.arraycopy(src, off, page(gpa >>> PAGE_SHIFT, true), inPage, n);
            gpa += n;
            off += n;
            len -= n;
        }
    }

    /** Pages that have storage (were written with non-zero data at least once). */
    public long pagesBacked() { return pagesBacked; }

    private void check(long gpa, long len) {
        if (!contains(gpa, len))
            throw new IllegalArgumentException(String.format("access [0x%x, +%d) outside guest RAM of %d bytes", gpa, len, ramBytes));
    }

    private byte[] page(long pfn, boolean create) {
        int d = (int) (pfn >>> DIR_SHIFT);
        byte[][] group = dir[d];
        if (group == null) {
            if (!create) return null;
            group = dir[d] = new byte[DIR_SIZE][];
        }
        int i = (int) (pfn & (DIR_SIZE - 1));
        byte[] p = group[i];
        if (p == null && create) {
            p = group[i] = new byte[PAGE_SIZE];
            pagesBacked++;
        }
        return p;
    }
}
