package tcesim.guest;

/**
 * The bytes of packet number {@code seq} of a stream, so that whoever receives them can tell whether they
 * are the packet expected: an 8-byte big-endian header with the stream id and sequence number, then a
 * pattern derived from both. A page written through a stale translation thus shows up as a wrong or
 * missing packet on one side and as foreign bytes in somebody else's page on the other.
 */
public final class Payload {
    private Payload() {}

    public static final int HEADER = 8;

    public static void fill(byte[] buf, int len, int stream, long seq) {
        long h = ((long) stream << 56) | (seq & 0x00ff_ffff_ffff_ffffL);
        for (int i = 0; i < HEADER && i < len; i++) buf[i] = (byte) (h >>> (56 - 8 * i));
        for (int i = HEADER; i < len; i++) buf[i] = (byte) (seq * 31 + i * 7 + stream);
    }

    /** The sequence number in {@code buf} if it is an intact packet of {@code stream}, else -1. */
    public static long check(byte[] buf, int len, int stream) {
        if (len < HEADER) return -1;
        long h = 0;
        for (int i = 0; i < HEADER; i++) h = (h << 8) | (buf[i] & 0xff);
        if ((int) (h >>> 56) != stream) return -1;
        long seq = h & 0x00ff_ffff_ffff_ffffL;
        for (int i = HEADER; i < len; i++) if (buf[i] != (byte) (seq * 31 + i * 7 + stream)) return -1;
        return seq;
    }

    /** Fills {@code page} (4 KiB) with the big-endian words {@link #kernelWord} of page {@code pfn}, allocation {@code generation}. */
    public static void fillKernelPage(byte[] page, long pfn, int generation) {
        long base = kernelBase(pfn, generation);
        for (int i = 0; i < page.length / 8; i++) {
            long w = base + i * 0x9E3779B97F4A7C15L;
            for (int b = 0; b < 8; b++) page[8 * i + b] = (byte) (w >>> (56 - 8 * b));
        }
    }

    /** Word {@code i} of the pattern a kernel object of page {@code pfn}, allocation {@code generation}, holds. */
    public static long kernelWord(long pfn, int generation, int i) {
        return kernelBase(pfn, generation) + i * 0x9E3779B97F4A7C15L;
    }

    private static long kernelBase(long pfn, int generation) {
        return tcesim.papr.Mix.mix(pfn * 0x1_0000_0001L + generation);
    }
}
