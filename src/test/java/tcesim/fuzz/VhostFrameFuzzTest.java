package tcesim.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tcesim.mem.GuestMemory;
import tcesim.testutil.Property;
import tcesim.vhost.Errno;
import tcesim.vhost.IotlbMsg;
import tcesim.vhost.VhostDevice;
import tcesim.vhost.VhostIotlb;
import tcesim.vhost.VhostMsgCodec;

/**
 * Hostile or buggy userspace on the vhost fd: random and adversarial byte frames into
 * {@link VhostDevice#write} / {@link VhostDevice#writeFrame}, checked against an independent reference of
 * what vhost_chr_write_iter() returns and of the IOTLB (a plain list: FIFO eviction, lowest start then
 * oldest wins a lookup, delete removes every overlapping entry whole).
 *
 * <p>After every write: the return value is the one the reference predicts (72, -EINVAL or -EFAULT:
 * {@code VhostDevice} documents that vhost_chr_write_iter() maps every internal failure, -ENOMEM included,
 * to -EFAULT); the IOTLB never exceeds its limit and holds exactly the reference's entries in the same
 * order; lookups, translate() and accessOk() on random and edge addresses terminate and agree with the
 * reference (so every translated segment comes from an UPDATEd entry, at the right offset); the MISS
 * frames queued can be read back and then readFrame() returns null.
 *
 * <p>Budget: {@link FuzzBudget} (10 % as frame sequences, 0.5 % as floods, 5 % for the pre-2022 model,
 * the full budget x 8 frames for the decoder). The whole class runs under a preemptive timeout, so a hang
 * fails instead of blocking the build.
 */
class VhostFrameFuzzTest {
    static final long HVA = GuestMemory.DEFAULT_HVA_BASE;
    static final int[] LIMITS = {4, 16, 2048, 0};
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    // ------------------------------------------------------------------ reference IOTLB

    record E(long start, long last, long uaddr, int perm) {}

    static final class RefIotlb {
        final int limit;
        final boolean split;
        final boolean refuseWrapped;
        final List<E> list = new ArrayList<>(); // oldest first

        RefIotlb(int limit, boolean split) {
            this(limit, split, true);
        }

        RefIotlb(int limit, boolean split, boolean refuseWrapped) {
            this.limit = limit;
            this.split = split;
            this.refuseWrapped = refuseWrapped;
        }

        boolean insert(long s, long l, long u, int p) {
            if (refuseWrapped && Long.compareUnsigned(l, s) < 0) return false;
            if (split && s == 0 && l == -1L) {
                insert(0, Long.MAX_VALUE, u, p);
                u += Long.MIN_VALUE; // + 2^63
                s = Long.MIN_VALUE;
            }
            if (limit != 0 && list.size() == limit) list.remove(0);
            list.add(new E(s, l, u, p));
            return true;
        }

        void delete(long s, long l) {
            list.removeIf(e -> Long.compareUnsigned(e.start, l) <= 0 && Long.compareUnsigned(s, e.last) <= 0);
        }

        E find(long a) {
            E best = null;
            for (E e : list)
                if (Long.compareUnsigned(e.start, a) <= 0 && Long.compareUnsigned(a, e.last) <= 0
                        && (best == null || Long.compareUnsigned(e.start, best.start) < 0)) best = e;
            return best;
        }
    }

    /** What translate_desc() must answer, from the reference: segments, or a negative errno (-EAGAIN with the miss address). */
    record RefTranslation(int rc, long missIova, List<long[]> segs) {}

    static RefTranslation refTranslate(RefIotlb ref, long iova, long len, int access, int max) {
        List<long[]> segs = new ArrayList<>();
        long addr = iova, rem = len;
        while (rem != 0) {
            if (segs.size() >= max) return new RefTranslation(-Errno.ENOBUFS, 0, segs);
            E e = ref.find(addr);
            if (e == null) return new RefTranslation(-Errno.EAGAIN, addr, segs);
            if ((e.perm & access) == 0) return new RefTranslation(-Errno.EPERM, 0, segs);
            long avail = e.last - addr + 1, hva = e.uaddr + (addr - e.start);
            if (avail == 0) {
                segs.add(new long[] {hva, 0});
            } else if (Long.compareUnsigned(avail, rem) >= 0) {
                segs.add(new long[] {hva, rem});
                rem = 0;
            } else {
                segs.add(new long[] {hva, avail});
                rem -= avail;
                addr += avail;
            }
        }
        return new RefTranslation(segs.size(), 0, segs);
    }

    // ------------------------------------------------------------------ frames

    /** One step: a write of {@code len} bytes of {@code buf}, or an ioctl (SET_FEATURES with/without ACCESS_PLATFORM, cleanup). */
    record Step(String kind, byte[] buf, int len) {
        @Override public String toString() {
            if (!kind.equals("write")) return kind;
            StringBuilder b = new StringBuilder("write(len=" + len + ", ");
            if (buf == null) return b.append("null)").toString();
            if (buf.length >= 40 && len >= 40) {
                ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
                b.append(String.format("hdr=%d asid=%d iova=0x%x size=0x%x uaddr=0x%x perm=%d type=%d", bb.getInt(0), bb.getInt(4),
                        bb.getLong(8), bb.getLong(16), bb.getLong(24), buf[32] & 0xff, buf[33] & 0xff));
            } else {
                for (int i = 0; i < Math.min(buf.length, 48); i++) b.append(String.format("%02x", buf[i]));
            }
            return b.append(')').toString();
        }
    }

    record Scenario(int limit, int cfg, List<Step> steps, long probeSeed) {
        VhostDevice.Config config() {
            return cfg == 0 ? VhostDevice.Config.current(limit) : cfg == 1 ? VhostDevice.Config.v2022(limit) : cfg == 2 ? VhostDevice.Config.pre2022(limit) : VhostDevice.Config.v2019(limit);
        }

        @Override public String toString() {
            return "Scenario[" + config() + ", probeSeed=" + probeSeed + ", steps=" + steps + "]";
        }
    }

    static long iova(SplittableRandom r) {
        long[] e = {0, -1L, Long.MIN_VALUE, Long.MAX_VALUE, -4096, 4096};
        int k = r.nextInt(10);
        if (k < 2) return e[r.nextInt(e.length)];
        if (k < 8) return r.nextLong(48) * 4096 + (r.nextInt(8) == 0 ? r.nextInt(4096) : 0);
        return r.nextLong();
    }

    static long size(SplittableRandom r, long iova) {
        long[] e = {0, 1, 4096, 8192, -1L, Long.MIN_VALUE, Long.MAX_VALUE, -iova, -iova + 1, 1L << 40};
        int k = r.nextInt(10);
        if (k < 3) return e[r.nextInt(e.length)];
        if (k < 9) return 1 + r.nextLong(4 * 4096);
        return r.nextLong();
    }

    static long uaddr(SplittableRandom r, long size) {
        long[] e = {0, -1L, -4096, Long.MIN_VALUE, -size, -size + 1, HVA};
        int k = r.nextInt(10);
        if (k < 2) return e[r.nextInt(e.length)];
        if (k < 9) return HVA + r.nextLong(1 << 14) * 4096;
        return r.nextLong();
    }

    static byte[] frame(int hdr, int asid, long iova, long size, long uaddr, int perm, int type, int bytes, SplittableRandom r) {
        byte[] b = new byte[Math.max(bytes, 40)];
        r.nextBytes(b); // hole, padding and trailing bytes: garbage
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(0, hdr).putInt(4, asid).putLong(8, iova).putLong(16, size).putLong(24, uaddr);
        b[32] = (byte) perm;
        b[33] = (byte) type;
        return b;
    }

    static int frameLen(SplittableRandom r) {
        int k = r.nextInt(100);
        if (k < 75) return VhostMsgCodec.FRAME_SIZE;
        if (k < 83) return 40 + r.nextInt(32);
        if (k < 91) return r.nextInt(40);
        return 73 + r.nextInt(128);
    }

    static Step writeStep(SplittableRandom r) {
        int k = r.nextInt(100);
        if (k < 8) { // raw bytes
            int n = r.nextInt(201);
            byte[] b = new byte[n];
            r.nextBytes(b);
            if (n >= 4 && r.nextBoolean()) { b[0] = (byte) (1 + r.nextInt(2)); b[1] = 0; b[2] = 0; b[3] = 0; }
            return new Step("write", b, n);
        }
        if (k < 10) { // len not matching the buffer, or no buffer
            byte[] b = r.nextBoolean() ? null : new byte[r.nextInt(80)];
            int[] lens = {-1, Integer.MIN_VALUE, b == null ? 72 : b.length + 1 + r.nextInt(8), 72};
            return new Step("write", b, lens[r.nextInt(lens.length)]);
        }
        int hdr = r.nextInt(20) == 0 ? new int[] {0, 3, -1, 0x101, r.nextInt()}[r.nextInt(5)] : 1 + r.nextInt(2);
        int type;
        int t = r.nextInt(100);
        if (t < 55) type = IotlbMsg.UPDATE;
        else if (t < 80) type = IotlbMsg.INVALIDATE;
        else if (t < 90) type = new int[] {IotlbMsg.MISS, IotlbMsg.ACCESS_FAIL, IotlbMsg.BATCH_BEGIN, IotlbMsg.BATCH_END}[r.nextInt(4)];
        else type = new int[] {0, 7, 255, r.nextInt(256)}[r.nextInt(4)];
        long iova = iova(r), size = size(r, iova), uaddr = uaddr(r, size);
        int perm = r.nextInt(10) < 8 ? 1 + r.nextInt(3) : r.nextInt(256);
        int len = frameLen(r);
        byte[] b = frame(hdr, r.nextInt(4) == 0 ? r.nextInt() : 0, iova, size, uaddr, perm, type, len, r);
        if (r.nextInt(12) == 0) b[r.nextInt(Math.min(len, b.length) == 0 ? 1 : Math.min(len, b.length))] ^= (byte) (1 << r.nextInt(8));
        return new Step("write", b, len);
    }

    static Property.Gen<Scenario> scenarios(int cfg, int maxSteps) {
        return r -> {
            int n = 1 + r.nextInt(maxSteps);
            List<Step> steps = new ArrayList<>(n);
            if (r.nextInt(10) != 0) steps.add(new Step("features+AP", null, 0)); // usually QEMU's start sequence first
            for (int i = 0; i < n; i++) {
                int k = r.nextInt(100);
                if (k < 2) steps.add(new Step("features+AP", null, 0));
                else if (k < 3) steps.add(new Step("features-AP", null, 0));
                else if (k < 4) steps.add(new Step("cleanup", null, 0));
                else steps.add(writeStep(r));
            }
            return new Scenario(LIMITS[r.nextInt(LIMITS.length)], cfg, steps, r.nextLong());
        };
    }

    // ------------------------------------------------------------------ the oracle

    /** The expected write() result, computed from the bytes; applies the message to {@code ref}. */
    static long expectedWrite(byte[] b, int len, VhostDevice.Config cfg, RefIotlb ref) {
        if (b == null || len < 0 || len > b.length) return -Errno.EFAULT;
        if (len < 4) return -Errno.EINVAL;
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int hdr = bb.getInt(0);
        if (hdr != 1 && hdr != 2) return -Errno.EINVAL;
        if (len < 40) return -Errno.EINVAL;
        long iova = bb.getLong(8), size = bb.getLong(16), uaddr = bb.getLong(24);
        int perm = b[32] & 0xff, type = b[33] & 0xff;
        if (type < 1 || type > 6) return -Errno.EFAULT;
        if (size == 0 && type == IotlbMsg.UPDATE && cfg.rejectZeroSizeUpdate()) return -Errno.EINVAL;
        if (size == 0 && type == IotlbMsg.INVALIDATE && cfg.rejectZeroSizeInvalidate()) return -Errno.EINVAL;
        if (type == IotlbMsg.UPDATE) {
            if (ref == null) return -Errno.EFAULT;
            // vhost_overflow: uaddr > ULONG_MAX - size, or from v5.14 (size != 0 and) uaddr > ULONG_MAX - size + 1
            if (cfg.overflowAllowsEnd() ? size != 0 && Long.compareUnsigned(uaddr, -size) > 0 : Long.compareUnsigned(uaddr, -1L - size) > 0) return -Errno.EFAULT;
            if (size == 0 && cfg.refuseZeroSizeInsert()) return -Errno.EFAULT; // vhost_new_umem_range (2019)
            if (!ref.insert(iova, iova + size - 1, uaddr, perm)) return -Errno.EFAULT;
            return VhostMsgCodec.FRAME_SIZE;
        }
        if (type == IotlbMsg.INVALIDATE) {
            if (ref == null) return -Errno.EFAULT;
            ref.delete(iova, iova + size - 1);
            return VhostMsgCodec.FRAME_SIZE;
        }
        return -Errno.EFAULT;
    }

    static void checkSameEntries(VhostIotlb io, RefIotlb ref, String when) {
        List<VhostIotlb.Entry> got = io.entries();
        boolean same = got.size() == ref.list.size();
        for (int i = 0; same && i < got.size(); i++) {
            VhostIotlb.Entry g = got.get(i);
            E e = ref.list.get(i);
            same = g.start() == e.start && g.last() == e.last && g.uaddr() == e.uaddr && g.perm() == e.perm;
        }
        if (!same) throw new AssertionError(when + ": IOTLB " + got + " but the reference holds " + ref.list);
        if (io.limit() != 0 && io.size() > io.limit()) throw new AssertionError(when + ": IOTLB size " + io.size() + " > limit " + io.limit());
    }

    static long probeAddr(SplittableRandom r, RefIotlb ref) {
        if (ref != null && !ref.list.isEmpty() && r.nextInt(3) != 0) {
            E e = ref.list.get(r.nextInt(ref.list.size()));
            long[] c = {e.start, e.last, e.start - 1, e.last + 1, e.start + (e.last - e.start) / 2};
            return c[r.nextInt(c.length)];
        }
        long[] edges = {0, -1L, Long.MIN_VALUE, Long.MAX_VALUE};
        return r.nextInt(4) == 0 ? edges[r.nextInt(4)] : r.nextInt(2) == 0 ? r.nextLong(64 * 4096) : r.nextLong();
    }

    static long probeLen(SplittableRandom r) {
        long[] c = {0, 1, 4096, 3 * 4096 + 5, -1L, Long.MIN_VALUE, 1L << 32};
        return r.nextInt(3) == 0 ? c[r.nextInt(c.length)] : 1 + r.nextInt(5 * 4096);
    }

    /** translate(), accessOk() and lookups on probes, all compared with the reference; then the MISS frames are drained. */
    static void probe(VhostDevice dev, RefIotlb ref, SplittableRandom r, String when, boolean hangAllowed) {
        for (int i = 0; i < 6; i++) {
            long a = probeAddr(r, ref), len = probeLen(r);
            int access = 1 + r.nextInt(3), vq = r.nextInt(dev.nvqs());
            if (ref != null) {
                VhostIotlb.Entry got = dev.iotlb().lookup(a);
                E want = ref.find(a);
                boolean same = got == null ? want == null
                        : want != null && got.start() == want.start && got.last() == want.last && got.uaddr() == want.uaddr && got.perm() == want.perm;
                if (!same) throw new AssertionError(when + ": lookup(0x" + Long.toHexString(a) + ") = " + got + ", reference " + want);
            }
            VhostDevice.Segments out = new VhostDevice.Segments();
            int rc = dev.translate(vq, a, len, access, out, VhostDevice.UIO_MAXIOV);
            String call = String.format("%s: translate(iova=0x%x, len=0x%x, access=%d)", when, a, len, access);
            if (ref == null) {
                assertEquals(-Errno.EFAULT, rc, call + " without IOTLB");
            } else {
                RefTranslation want = refTranslate(ref, a, len, access, VhostDevice.UIO_MAXIOV);
                if (want.rc() != rc) throw new AssertionError(call + " = " + rc + ", reference " + want.rc() + "; IOTLB " + ref.list);
                if (rc >= 0) {
                    if (rc > 0) COV[1]++;
                    for (int s = 0; s < rc; s++)
                        if (out.hva(s) != want.segs().get(s)[0] || out.len(s) != want.segs().get(s)[1])
                            throw new AssertionError(call + ": segment " + s + " = 0x" + Long.toHexString(out.hva(s)) + "+" + out.len(s)
                                    + ", reference 0x" + Long.toHexString(want.segs().get(s)[0]) + "+" + want.segs().get(s)[1]);
                } else if (rc == -Errno.EAGAIN) {
                    VhostDevice.QueuedMsg m = dev.readList().get(dev.readList().size() - 1);
                    assertEquals(want.missIova(), m.msg().iova(), call + ": MISS address");
                } else if (rc != -Errno.EPERM && rc != -Errno.ENOBUFS) {
                    throw new AssertionError(call + " = " + rc);
                }
            }
            int ok = dev.accessOk(vq, a, len, access);
            boolean allowed = ok == 0 || ok == -Errno.EAGAIN || ok == -Errno.EPERM || (ref == null && ok == -Errno.EFAULT)
                    || (hangAllowed && ok == -Errno.EHUNG_MODEL);
            if (!allowed) throw new AssertionError(String.format("%s: accessOk(0x%x, 0x%x, %d) = %d", when, a, len, access, ok));
            if (rc >= 0 && ok != 0) throw new AssertionError(call + " mapped it but accessOk says " + ok);
            if ((rc == -Errno.EAGAIN || rc == -Errno.EPERM) && ok != rc) throw new AssertionError(call + " = " + rc + " but accessOk says " + ok);
        }
        byte[] f;
        while ((f = dev.readFrame()) != null) {
            assertEquals(VhostMsgCodec.FRAME_SIZE, f.length);
            COV[2]++;
            VhostMsgCodec.DecodeResult d = VhostMsgCodec.decode(f);
            assertTrue(d instanceof VhostMsgCodec.DecodeResult.Ok o && o.msg().type() == IotlbMsg.MISS && o.msg().size() == 0
                    && o.msg().uaddr() == 0, () -> when + ": queued frame decodes to " + d);
        }
        assertNull(dev.readFrame(), when + ": readFrame() on an empty queue");
    }

    /** Coverage: writes accepted, translations that mapped, MISS frames read back (printed; a real budget must reach each). */
    static final long[] COV = new long[3];

    static void run(Scenario sc) {
        VhostDevice.Config cfg = sc.config();
        VhostDevice dev = new VhostDevice(2, cfg);
        assertNull(dev.readFrame(), "readFrame() on a fresh device");
        RefIotlb ref = null;
        SplittableRandom r = new SplittableRandom(sc.probeSeed());
        int i = 0;
        for (Step s : sc.steps()) {
            String when = "step " + i++ + " " + s;
            switch (s.kind()) {
                case "features+AP":
                    dev.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
                    ref = new RefIotlb(cfg.maxIotlbEntries(), cfg.splitFullRange(), cfg.refuseWrappedRange());
                    break;
                case "features-AP":
                    dev.setFeatures(0);
                    break;
                case "cleanup":
                    dev.cleanup();
                    ref = null;
                    break;
                default: {
                    long want = expectedWrite(s.buf(), s.len(), cfg, ref);
                    long got = s.buf() != null && s.len() == s.buf().length && r.nextBoolean() ? dev.writeFrame(s.buf()) : dev.write(s.buf(), s.len());
                    if (got != VhostMsgCodec.FRAME_SIZE && got != -Errno.EINVAL && got != -Errno.EFAULT && got != -Errno.ENOMEM)
                        throw new AssertionError(when + " returned " + got);
                    if (got != want) throw new AssertionError(when + " returned " + got + " (" + Errno.name(got) + "), reference " + want);
                    if (got == VhostMsgCodec.FRAME_SIZE) COV[0]++;
                }
            }
            if (ref != null) checkSameEntries(dev.iotlb(), ref, when);
            probe(dev, ref, r, when, !cfg.splitFullRange());
        }
    }

    // ------------------------------------------------------------------ properties

    @Test
    void randomFramesAgreeWithTheReference() {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Property.forAll("fuzz-vhost-frames", FuzzBudget.share(0.10), scenarios(0, 60), shrinker(), VhostFrameFuzzTest::run);
            Property.forAll("fuzz-vhost-frames-v2022", FuzzBudget.share(0.03), scenarios(1, 60), shrinker(), VhostFrameFuzzTest::run);
            Property.forAll("fuzz-vhost-frames-v2019", FuzzBudget.share(0.03), scenarios(3, 60), shrinker(), VhostFrameFuzzTest::run);
        });
        System.out.printf("fuzz-vhost-frames: writes accepted=%d, translations mapped=%d, MISS frames read=%d%n", COV[0], COV[1], COV[2]);
        if (FuzzBudget.share(0.10) >= 1000 && System.getProperty(Property.SEED_PROPERTY) == null)
            assertTrue(COV[0] > 0 && COV[1] > 0 && COV[2] > 0, "vacuous frame fuzz run");
    }

    /** Kernels before 2022 accept UPDATE size 0; the model must still terminate and say -EHUNG_MODEL where the kernel spun. */
    @Test
    void pre2022FramesTerminate() {
        assertTimeoutPreemptively(TIMEOUT, () ->
                Property.forAll("fuzz-vhost-frames-pre2022", FuzzBudget.share(0.05), scenarios(2, 40), shrinker(), VhostFrameFuzzTest::run));
    }

    static Property.Shrinker<Scenario> shrinker() {
        Property.Shrinker<List<Step>> l = Property.listShrinker(s -> s);
        return sc -> {
            List<Scenario> out = new ArrayList<>();
            List<Step> steps = sc.steps();
            for (List<Step> c : l.candidates(steps)) {
                // Keep the device start when a half drops it, or the shorter run has no IOTLB at all.
                if (!steps.isEmpty() && steps.get(0).kind().equals("features+AP") && (c.isEmpty() || !c.get(0).kind().equals("features+AP"))) {
                    List<Step> withStart = new ArrayList<>(c);
                    withStart.add(0, steps.get(0));
                    out.add(new Scenario(sc.limit(), sc.cfg(), withStart, sc.probeSeed()));
                }
                out.add(new Scenario(sc.limit(), sc.cfg(), c, sc.probeSeed()));
            }
            return out;
        };
    }

    /** Thousands of UPDATEs (and a few INVALIDATEs) beyond max_iotlb_entries: FIFO eviction, never above the limit. */
    @Test
    void updateFloodsStayWithinTheLimit() {
        assertTimeoutPreemptively(TIMEOUT, () -> Property.forAll("fuzz-vhost-flood", FuzzBudget.share(0.005), r -> r.nextLong(), seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            int limit = r.nextBoolean() ? 4 : 16;
            VhostDevice dev = new VhostDevice(1, VhostDevice.Config.current(limit));
            dev.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
            RefIotlb ref = new RefIotlb(limit, true);
            int n = 2000 + r.nextInt(3000);
            int version = 1 + r.nextInt(2);
            for (int i = 0; i < n; i++) {
                IotlbMsg m;
                if (r.nextInt(20) == 0) {
                    long a = r.nextLong(256) * 4096;
                    m = IotlbMsg.invalidate(a, 1 + r.nextLong(8 * 4096));
                } else {
                    long a = r.nextInt(50) == 0 ? 0 : r.nextLong(256) * 4096;
                    long size = r.nextInt(50) == 0 ? -a : 4096L * (1 + r.nextInt(4));
                    m = IotlbMsg.update(a, size, HVA + r.nextLong(1 << 14) * 4096, 1 + r.nextInt(3));
                }
                byte[] f = VhostMsgCodec.encode(version, 0, m);
                long want = expectedWrite(f, f.length, dev.config(), ref);
                long got = dev.writeFrame(f);
                if (got != want) throw new AssertionError("flood write " + i + " " + m + " = " + got + ", reference " + want);
                if (dev.iotlb().size() > limit) throw new AssertionError("IOTLB size " + dev.iotlb().size() + " > " + limit + " after " + m);
                if ((i & 15) == 0 || i == n - 1) {
                    checkSameEntries(dev.iotlb(), ref, "flood write " + i);
                    probe(dev, ref, r, "flood write " + i, false);
                }
            }
            assertTrue(dev.iotlb().evictions() > 0, "the flood evicted");
        }));
    }

    /** The decoder never throws; an Err names its reason and a negative errno; an Ok re-encodes to the same message. */
    @Test
    void decodeNeverThrows() {
        Property.forAll("fuzz-vhost-decode", FuzzBudget.share(1.0), r -> r.nextLong(), seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < 8; i++) {
                int n = r.nextInt(201);
                byte[] b = new byte[n];
                r.nextBytes(b);
                if (n >= 4 && r.nextBoolean()) { b[0] = (byte) (1 + r.nextInt(2)); b[1] = 0; b[2] = 0; b[3] = 0; }
                if (n >= 40 && r.nextBoolean()) b[33] = (byte) r.nextInt(8);
                boolean asid = r.nextBoolean();
                int len = r.nextInt(8) == 0 ? new int[] {-1, Integer.MIN_VALUE, n + 1, Integer.MAX_VALUE}[r.nextInt(4)] : r.nextInt(n + 1);
                byte[] buf = r.nextInt(50) == 0 ? null : b;
                VhostMsgCodec.DecodeResult d = r.nextBoolean() && len == n ? VhostMsgCodec.decode(buf) : VhostMsgCodec.decode(buf, len, asid);
                if (d instanceof VhostMsgCodec.DecodeResult.Err e) {
                    assertTrue(e.reason() != null && e.detail() != null && e.errno() < 0, () -> "Err without reason: " + e);
                } else {
                    VhostMsgCodec.DecodeResult.Ok o = (VhostMsgCodec.DecodeResult.Ok) d;
                    assertTrue(buf != null && len >= VhostMsgCodec.MIN_WRITE_LEN && IotlbMsg.isKnownType(o.msg().type()), () -> "Ok from a bad frame: " + o);
                    VhostMsgCodec.DecodeResult again = VhostMsgCodec.decode(VhostMsgCodec.encode(o.version(), o.asid(), o.msg()));
                    assertTrue(again instanceof VhostMsgCodec.DecodeResult.Ok a2 && a2.msg().equals(o.msg()), () -> "round trip of " + o + ": " + again);
                }
            }
        });
    }

    /**
     * Config.pre2022 accepts UPDATE(iova 0, size 0): one entry [0, 2^64-1] whose size overflows. The kernel's
     * iotlb_access_ok() spun on it; the model answers -EHUNG_MODEL at once, and translate_desc() stops at
     * UIO_MAXIOV zero-length segments (-ENOBUFS). The current Config refuses the UPDATE (-EINVAL).
     */
    @Test
    void zeroSizeUpdatePre2022IsReportedAsAHangNotLooped() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            byte[] f = VhostMsgCodec.encodeV2(IotlbMsg.update(0, 0, HVA, IotlbMsg.RW), 0);

            VhostDevice now = new VhostDevice(1, VhostDevice.Config.current(16));
            now.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
            assertEquals(-Errno.EINVAL, now.writeFrame(f));
            assertEquals(0, now.iotlb().size());
            assertEquals(-Errno.EINVAL, now.writeFrame(VhostMsgCodec.encodeV1(IotlbMsg.update(0x5000, 0, HVA, IotlbMsg.RO))));

            VhostDevice old = new VhostDevice(1, VhostDevice.Config.pre2022(16));
            old.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
            assertEquals(VhostMsgCodec.FRAME_SIZE, old.writeFrame(f));
            assertEquals(List.of(new VhostIotlb.Entry(0, -1L, HVA, IotlbMsg.RW)), old.iotlb().entries());
            assertEquals(-Errno.EHUNG_MODEL, old.accessOk(0, 0, 4096, IotlbMsg.RO));
            assertEquals(-Errno.EHUNG_MODEL, old.accessOk(0, -4096, 8192, IotlbMsg.WO)); // wraps to 0, then spins
            assertEquals(-Errno.ENOBUFS, old.translate(0, 0, 4096, IotlbMsg.RO, new VhostDevice.Segments(), VhostDevice.UIO_MAXIOV));
            assertEquals(0, old.accessOk(0, 0x1000, 4096, IotlbMsg.RO)); // away from 0 the entry translates
            assertNull(old.readFrame());
        });
    }
}
