package tcesim.testutil;

import static tcesim.papr.Hcall.*;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;

/** Random TCE hypercall sequences aimed at window edges, for the handler properties. */
public final class HcallOps {
    private HcallOps() {}

    /** A window's geometry. */
    public record Geo(long liobn, int shift, long offset, long size) {
        public long pageSize() { return 1L << shift; }
    }

    /**
     * One hypercall. {@code arg} is the TCE (H_PUT_TCE), the value (H_STUFF_TCE) or the list address
     * (H_PUT_TCE_INDIRECT); {@code list} is what the guest wrote at that address before the call.
     */
    public record Op(long opcode, long liobn, long ioba, long arg, long npages, List<Long> list) {
        public HcallRegs regs() { return HcallRegs.of(opcode, liobn, ioba, arg, npages); }

        @Override public String toString() {
            String s = regs().describeCall();
            return opcode == H_PUT_TCE_INDIRECT ? s + " list" + hex(list) : s;
        }
    }

    private static String hex(List<Long> l) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < l.size(); i++) b.append(i == 0 ? "" : ",").append(Long.toHexString(l.get(i)));
        return b.append(']').toString();
    }

    /** Guest RAM of the property rigs. */
    public static final long RAM = 64L << 20;

    /**
     * The windows the properties run against: 4 KiB at bus 0, 64 KiB at the DDW offset 1 << 59, 16 MiB at a
     * non-zero offset, and a 4 KiB window spanning three table chunks.
     */
    public static final List<Geo> GEOS = List.of(
            new Geo(0x80000000L, 12, 0, 1024),
            new Geo(0x80000001L, 16, (1L << 59) >>> 16, 700),
            new Geo(0x80000100L, 24, 3, 40),
            new Geo(0x80000101L, 12, 5000, 2L * tcesim.papr.TceTable.CHUNK_ENTRIES + 50));

    public static final long[] UNKNOWN_LIOBNS = {0, 0x80000005L, 0x80000200L};
    public static final long[] GARBAGE_OPCODES = {0, 0x1D, 0x21, 0x134, 0x13C + 4};

    /** Writes the op's list into guest memory when its page lies in RAM (the rest of the page zeroed). */
    public static void writeList(GuestMemory mem, Op op) {
        if (op.opcode() != H_PUT_TCE_INDIRECT) return;
        long a = op.arg();
        if ((a & 4095) != 0 || !mem.contains(a, 4096)) return;
        for (int i = 0; i < 512; i++) mem.writeLongBE(a + 8L * i, i < op.list().size() ? op.list().get(i) : 0);
    }

    public static Property.Gen<List<Op>> sequences(List<Geo> geos, long ram, int maxLen) {
        return r -> {
            int n = 1 + r.nextInt(maxLen);
            List<Op> ops = new ArrayList<>(n);
            for (int i = 0; i < n; i++) ops.add(op(r, geos, ram));
            return ops;
        };
    }

    public static Op op(SplittableRandom r, List<Geo> geos, long ram) {
        int k = r.nextInt(100);
        long opcode = k < 25 ? H_PUT_TCE : k < 50 ? H_STUFF_TCE : k < 75 ? H_PUT_TCE_INDIRECT : k < 90 ? H_GET_TCE
                : r.nextInt(4) == 0 ? r.nextLong() : GARBAGE_OPCODES[r.nextInt(GARBAGE_OPCODES.length)];
        Geo g = geos.get(r.nextInt(geos.size()));
        long liobn = r.nextInt(100) < 88 ? g.liobn() : UNKNOWN_LIOBNS[r.nextInt(UNKNOWN_LIOBNS.length)];
        long npages = npages(r, g);
        long ioba = ioba(r, g, npages);
        long arg;
        List<Long> list = List.of();
        if (opcode == H_PUT_TCE_INDIRECT) {
            arg = listAddress(r, ram);
            int len = (int) Math.min(Long.compareUnsigned(npages, 513) > 0 ? r.nextInt(4) : npages, 513);
            List<Long> l = new ArrayList<>(len);
            for (int i = 0; i < len; i++) l.add(r.nextInt(100) < 90 ? goodTce(r, g, ram) : tce(r, g, ram));
            list = l;
        } else if (opcode == H_STUFF_TCE) {
            int s = r.nextInt(10);
            arg = s < 6 ? 0 : s < 8 ? tce(r, g, ram) & ~3L : tce(r, g, ram);
        } else {
            arg = tce(r, g, ram);
        }
        return new Op(opcode, liobn, ioba, arg, opcode == H_PUT_TCE || opcode == H_GET_TCE ? 0 : npages, list);
    }

    static long npages(SplittableRandom r, Geo g) {
        int k = r.nextInt(100);
        if (k < 10) return 0;
        if (k < 30) return 1;
        if (k < 55) return 2 + r.nextInt(19);
        if (k < 60) return 512;
        if (k < 65) return 513;
        if (k < 90) return r.nextInt(601);
        long[] huge = {-1L, Long.MIN_VALUE, g.size(), g.size() + 1, r.nextLong()};
        return huge[r.nextInt(huge.length)];
    }

    static long ioba(SplittableRandom r, Geo g, long npages) {
        long off = g.offset(), end = off + g.size();
        long idx;
        switch (r.nextInt(9)) {
            case 0: idx = off; break;
            case 1: idx = end - 1; break;
            case 2: idx = end; break;
            case 3: idx = off - 1; break;
            case 4: idx = end - (npages >= 0 && npages < g.size() ? npages : 1); break;
            case 5: idx = off + TceTable8k.lastOfChunk(r, g.size()); break;
            case 6: return r.nextLong();
            default: idx = off + r.nextLong(g.size()); break;
        }
        long ioba = idx << g.shift();
        if (r.nextInt(100) < 12) ioba += 1 + r.nextLong(g.pageSize() - 1);
        return ioba;
    }

    /** Indexes near the 8192-entry chunk boundaries of TceTable (real mode's backing checks). */
    static final class TceTable8k {
        static long lastOfChunk(SplittableRandom r, long size) {
            long chunks = (size + 8191) >>> 13;
            long i = (r.nextLong(chunks) << 13) + 8191 - r.nextInt(3) + r.nextInt(3);
            return Math.min(Math.max(i, 0), size - 1);
        }
    }

    static long listAddress(SplittableRandom r, long ram) {
        int k = r.nextInt(100);
        if (k < 70) return (1 + r.nextInt(8)) * 0x10000L;          // a few aligned pages in RAM
        if (k < 78) return ram - 4096;
        if (k < 86) return (1 + r.nextInt(8)) * 0x10000L + 8 * (1 + r.nextInt(511));
        if (k < 93) return ram;
        return r.nextBoolean() ? 1L << 40 : r.nextLong();
    }

    /** A TCE likely to be accepted: 0, or valid, page aligned for the table, in RAM. */
    static long goodTce(SplittableRandom r, Geo g, long ram) {
        if (r.nextInt(10) == 0) return 0;
        return inRam(r, g.pageSize(), ram) | (1 + r.nextInt(3));
    }

    static long tce(SplittableRandom r, Geo g, long ram) {
        int k = r.nextInt(100);
        long perm = 1 + r.nextInt(3);
        if (k < 15) return 0;
        if (k < 50) return inRam(r, g.pageSize(), ram) | perm;
        if (k < 60) return inRam(r, 4096, ram) | perm;                  // misaligned for big pages
        if (k < 68) return (ram + (r.nextLong(1L << 30) << 12)) | perm; // outside RAM
        if (k < 76) return (r.nextLong() & ~3L);                        // no permission bits, anywhere
        if (k < 82) return (ram - g.pageSize()) | perm;
        if (k < 86) return ram | perm;
        if (k < 90) return perm;                                        // address 0
        return r.nextLong();
    }

    private static long inRam(SplittableRandom r, long align, long ram) {
        long pages = ram / Math.max(align, 4096);
        if (pages == 0) return 0;
        return r.nextLong(pages) * Math.max(align, 4096);
    }

    /** Halves the numeric arguments of {@code op} (ioba, arg, npages, list length); the op itself when all are 0. */
    public static Op halve(Op op) {
        Op h = new Op(op.opcode(), op.liobn(), Property.halve(op.ioba()), Property.halve(op.arg()),
                Property.halve(op.npages()), op.list().subList(0, op.list().size() / 2));
        return h.equals(op) ? op : h;
    }

    public static Property.Shrinker<List<Op>> shrinker() {
        return Property.listShrinker(HcallOps::halve);
    }
}
