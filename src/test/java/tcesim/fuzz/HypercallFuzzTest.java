package tcesim.fuzz;

import static tcesim.papr.Hcall.*;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import tcesim.kvm.AttachedTable;
import tcesim.kvm.HostCaps;
import tcesim.kvm.Kvm;
import tcesim.kvm.KvmPolicy;
import tcesim.mem.GuestMemory;
import tcesim.mem.HostMemoryListener;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.qemu.QemuPolicy;
import tcesim.qemu.QemuTceHandlers;
import tcesim.qemu.Spapr;
import tcesim.qemu.SpaprTceTable;
import tcesim.qemu.VhostIommu;
import tcesim.testutil.HcallOps;
import tcesim.testutil.HcallOps.Geo;
import tcesim.testutil.HcallOps.Op;
import tcesim.testutil.Property;
import tcesim.vfio.DmaResult;
import tcesim.vfio.HwTceTable;
import tcesim.vfio.PassthroughDevice;
import tcesim.vfio.PhbTceCache;
import tcesim.vfio.VfioSpaprTce;
import tcesim.vhost.IotlbMsg;
import tcesim.vhost.VhostDevice;
import tcesim.vhost.VhostMsgCodec;

/**
 * A hostile guest's hypercalls against the whole TCE stack: KVM (in-kernel handlers, exit to QEMU's
 * {@link Spapr}), a VFIO hardware table attached in KVM, and vhost with QEMU's {@link VhostIommu} glue; and
 * against {@link QemuTceHandlers} directly (TCG machine, every table in QEMU).
 *
 * <p>Properties, after every hypercall: nothing throws; the guest sees only H_SUCCESS, H_PARAMETER,
 * H_HARDWARE or H_FUNCTION (never KVM's internal H_TOO_HARD); and isolation holds for every bus address
 * the guest touched plus random ones: (i) QEMU's translation for vhost is null or an UPDATE inside guest
 * RAM's host mapping, and vhost, after its misses are answered, only ever produces segments inside it;
 * (ii) every valid hardware TCE points inside guest RAM; (iii) the passthrough device never DMAs outside
 * guest RAM with status OK (nor reports OUTSIDE_GUEST_RAM at all).
 *
 * <p>Budget: {@link FuzzBudget}; 60 % of it to the KVM stack, 25 % to QEMU alone.
 */
class HypercallFuzzTest {
    static final int MAX_OPS = 24;
    static final List<Geo> GEOS = HcallOps.GEOS;
    /** VFIO groups are attached to the 4 KiB windows (the 1 KiB-entry one and the one spanning three chunks). */
    static final int[] VFIO_GEOS = {0, 3};
    /** RAM sizes: the harness's 64 MiB, and one that ends inside a 64 KiB and a 16 MiB IOMMU page. */
    static final long[] RAMS = {HcallOps.RAM, (40L << 20) + 0x3000};
    /** A 2022 kernel: no real-mode handlers, one TCE kill per entry. */
    static final HostCaps NO_REAL_MODE = HostCaps.POWERNV_HV.withKernel(HostCaps.HostKernel.K2022);
    /** Index 3 (NO_KVM_TCE) is also the host of the QEMU-only runs. */
    static final HostCaps[] HOSTS = {HostCaps.POWERNV_HV, NO_REAL_MODE, HostCaps.NO_VFIO_TCE, HostCaps.NO_KVM_TCE, HostCaps.POWERNV8_HV,
            HostCaps.POWERNV_HV.withKernel(HostCaps.HostKernel.CURRENT), HostCaps.NESTED_PSERIES};
    static final long[] EDGES = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 4096, 512, 513, 1L << 59, 0xfff, -4096};

    /** One run: the stack configuration and what the guest does. {@code checkSeed} draws the probe addresses. */
    record Case(int host, boolean vfio, boolean vhost, boolean d1Policy, long ram, long checkSeed, List<Op> ops) {
        Case withOps(List<Op> o) { return new Case(host, vfio, vhost, d1Policy, ram, checkSeed, o); }

        @Override public String toString() {
            return String.format("Case[host=%s, vfio=%s, vhost=%s, policy=%s, ram=0x%x, checkSeed=%d, ops=%s]",
                    HOSTS[host], vfio, vhost, d1Policy ? "D1" : "STOCK", ram, checkSeed, ops);
        }
    }

    static Property.Shrinker<Case> shrinker() {
        Property.Shrinker<List<Op>> ops = HcallOps.shrinker();
        return c -> {
            List<Case> out = new ArrayList<>();
            for (List<Op> o : ops.candidates(c.ops())) out.add(c.withOps(o));
            if (c.vfio() && c.vhost()) {
                out.add(new Case(c.host(), false, true, c.d1Policy(), c.ram(), c.checkSeed(), c.ops()));
                out.add(new Case(c.host(), true, false, c.d1Policy(), c.ram(), c.checkSeed(), c.ops()));
            }
            return out;
        };
    }

    // ------------------------------------------------------------------ generators

    static long anyLong(SplittableRandom r) {
        return r.nextBoolean() ? EDGES[r.nextInt(EDGES.length)] : r.nextLong();
    }

    /** LIOBNs a hostile guest may pass: known, unknown, known with upper bits set, wild. */
    static long liobn(SplittableRandom r, Geo g) {
        switch (r.nextInt(10)) {
            case 0: return g.liobn() | (1L << (32 + r.nextInt(32)));
            case 1: return g.liobn() ^ (1L << r.nextInt(8));
            case 2: return anyLong(r);
            case 3: return g.liobn() & 0xffffffffL | 0xffffffff00000000L;
            default: return g.liobn();
        }
    }

    /** The edge-aimed ops of {@link HcallOps} most of the time; otherwise wild registers. */
    static Op op(SplittableRandom r, long ram) {
        int k = r.nextInt(100);
        if (k < 70) return HcallOps.op(r, GEOS, ram);
        Geo g = GEOS.get(r.nextInt(GEOS.size()));
        long[] opcodes = {H_GET_TCE, H_PUT_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, 0, -1, -H_PUT_TCE, r.nextLong(), H_PUT_TCE | (1L << 32)};
        long opcode = opcodes[r.nextInt(opcodes.length)];
        long ioba;
        switch (r.nextInt(5)) {
            case 0: ioba = anyLong(r); break;
            case 1: ioba = ((g.offset() + g.size()) << g.shift()) - r.nextInt(3) * g.pageSize() + (r.nextBoolean() ? 0 : 8); break;
            case 2: ioba = -(g.pageSize() * (1 + r.nextInt(4))); break;
            default: ioba = (g.offset() + r.nextLong(g.size())) << g.shift(); break;
        }
        long npages;
        switch (r.nextInt(6)) {
            case 0: npages = -1 - r.nextInt(4); break;
            case 1: npages = anyLong(r); break;
            case 2: npages = g.size() - (ioba >>> g.shift()) + g.offset() + r.nextInt(3) - 1; break;
            default: npages = r.nextInt(601); break;
        }
        long arg;
        List<Long> list = new ArrayList<>();
        if (opcode == H_PUT_TCE_INDIRECT) {
            long[] lists = {0, ram - 4096, ram, ram - 8, 0x10000 + 8, 4096L * (1 + r.nextInt(16)), -4096, 1L << 40, r.nextLong()};
            arg = lists[r.nextInt(lists.length)];
            int n = r.nextInt(Math.max(1, (int) Math.min(513, Math.max(0, npages)) + 1));
            for (int i = 0; i < n; i++) list.add(tce(r, g, ram));
        } else {
            arg = tce(r, g, ram);
        }
        return new Op(opcode, liobn(r, g), ioba, arg, npages, list);
    }

    /** TCEs: valid into RAM, valid outside RAM, huge, misaligned, no permission, straddling the end of RAM. */
    static long tce(SplittableRandom r, Geo g, long ram) {
        long perm = r.nextInt(4);
        switch (r.nextInt(9)) {
            case 0: return 0;
            case 1: return (r.nextLong(ram >>> 12) << 12) | perm;
            case 2: return (ram + (r.nextLong(1L << 20) << 12)) | perm;
            case 3: return r.nextLong();
            case 4: return ((r.nextLong(ram >>> 12) << 12) + 8) | perm;
            case 5: return ((ram - 1) & -g.pageSize()) | perm;
            case 6: return (Long.MIN_VALUE | (r.nextLong(ram >>> 12) << 12)) | perm;
            case 7: return -g.pageSize() | perm;
            default: return (r.nextLong(ram / g.pageSize()) * g.pageSize()) | perm;
        }
    }

    static Property.Gen<Case> cases(boolean kvm) {
        return r -> {
            long ram = RAMS[r.nextInt(RAMS.length)];
            int n = 1 + r.nextInt(MAX_OPS);
            List<Op> ops = new ArrayList<>(n);
            for (int i = 0; i < n; i++) ops.add(op(r, ram));
            int host = kvm ? r.nextInt(HOSTS.length) : 3;
            int att = r.nextInt(4);
            return new Case(host, kvm && (att & 1) != 0, (att & 2) != 0, kvm && r.nextInt(5) == 0, ram, r.nextLong(), ops);
        };
    }

    // ------------------------------------------------------------------ the rig

    /** Records which hardware entries KVM exchanged, so that "every valid entry" is checked exactly. */
    static final class Recorder implements AttachedTable {
        final VfioSpaprTce vfio;
        final Set<Long> touchedNow = new LinkedHashSet<>();
        final Set<Long> touchedEver = new LinkedHashSet<>();

        Recorder(VfioSpaprTce vfio) { this.vfio = vfio; }

        @Override public boolean realModeCapable() { return vfio.realModeCapable(); }

        @Override public long exchange(long idx, long gpa, int perm) {
            touchedNow.add(idx);
            touchedEver.add(idx);
            return vfio.exchange(idx, gpa, perm);
        }

        @Override public void kill(long idx, long npages) { vfio.kill(idx, npages); }
    }

    static final class Rig {
        final Case c;
        final GuestMemory mem;
        final Kvm kvm;
        final Spapr spapr;
        final QemuTceHandlers qemu;
        final VhostDevice vhost;
        final VhostIommu glue;
        final List<Recorder> vfio = new ArrayList<>();
        final List<PassthroughDevice> devices = new ArrayList<>();
        final SplittableRandom probe;
        long calls, probes;
        final long[] cov;

        Rig(Case c, boolean viaKvm, long[] cov) {
            this.c = c;
            this.cov = cov;
            this.probe = new SplittableRandom(c.checkSeed());
            mem = new GuestMemory(c.ram());
            HostCaps caps = HOSTS[c.host()];
            HostMemoryListener listener = (who, access, bound) -> hostMemory.add(who + ": " + access);
            kvm = viaKvm ? new Kvm(caps, mem, c.d1Policy() ? new KvmPolicy(true) : KvmPolicy.STOCK, listener) : null;
            spapr = new Spapr(kvm, mem, QemuPolicy.STOCK, listener);
            for (Geo g : GEOS) spapr.createTable(g.liobn(), g.shift(), g.offset() << g.shift(), g.size());
            qemu = new QemuTceHandlers(spapr::table, mem, QemuPolicy.Planted.NONE, listener);
            if (c.vhost()) {
                vhost = new VhostDevice(2, VhostDevice.Config.current(16));
                vhost.setBackendFeatures(VhostDevice.VHOST_NET_BACKEND_FEATURES);
                vhost.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
                glue = new VhostIommu(vhost, spapr, mem, VhostMsgCodec.VHOST_IOTLB_MSG_V2);
                // Registering the notifier may move the table out of KVM (NO_VFIO_TCE hosts).
                for (Geo g : GEOS) glue.regionAdd(g.liobn());
            } else {
                vhost = null;
                glue = null;
            }
            if (c.vfio() && kvm != null && caps.spaprTceVfio()) {
                for (int gi : VFIO_GEOS) {
                    long liobn = GEOS.get(gi).liobn();
                    SpaprTceTable t = spapr.table(liobn);
                    if (!t.inKernel()) continue;
                    HwTceTable hw = HwTceTable.matching(kvm.table(liobn).table());
                    PhbTceCache cache = new PhbTceCache(64);
                    Recorder rec = new Recorder(new VfioSpaprTce(hw, cache, mem));
                    kvm.table(liobn).attach(rec);
                    vfio.add(rec);
                    devices.add(new PassthroughDevice(cache, hw, mem));
                }
            }
        }

        /** What KVM or QEMU reported indexing past its tables during the current call ("kvm: ...", "qemu: ..."). */
        final List<String> hostMemory = new ArrayList<>();

        void run() {
            for (Op op : c.ops()) step(op);
            for (Recorder rec : vfio) checkHw(rec, rec.touchedEver, "end of sequence");
        }

        void step(Op op) {
            HcallOps.writeList(mem, op);
            HcallRegs regs = op.regs();
            long rc;
            String path;
            if (kvm != null) {
                path = kvm.hcall(regs).toString();
                rc = regs.r3;
            } else {
                path = "QEMU";
                rc = qemu.hcall(regs);
            }
            calls++;
            cov[C_CALLS]++;
            if (rc == H_SUCCESS && isTceHcall(op.opcode()) && op.opcode() != H_GET_TCE) cov[C_SUCCESS_WRITE]++;
            if (rc != H_SUCCESS && rc != H_PARAMETER && rc != H_HARDWARE && rc != H_FUNCTION)
                throw new AssertionError(op + " returned " + returnName(rc) + " to the guest via " + path);
            if (!isTceHcall(op.opcode()) && rc != H_FUNCTION)
                throw new AssertionError(op + " is no TCE hypercall but returned " + returnName(rc));
            checkHostMemory(op);
            checkIsolation(op);
        }

        /**
         * QEMU never reaches past a table (it checks every entry); KVM reaches past one only on kernels that check a call's first entry alone, and only for a multi-TCE call
         * whose first entry is in the window and whose last is not; current kernels never.
         */
        void checkHostMemory(Op op) {
            if (hostMemory.isEmpty()) return;
            if (hostMemory.stream().anyMatch(h -> !h.startsWith("kvm: "))) throw new AssertionError(op + " made QEMU reach host memory: " + hostMemory);
            if (HOSTS[c.host()].kernel().iobaChecksEveryEntry()) throw new AssertionError(op + " reached host memory on a current kernel: " + hostMemory);
            Geo g = GEOS.stream().filter(x -> x.liobn() == op.liobn()).findFirst().orElse(null);
            boolean multi = op.opcode() == H_STUFF_TCE || op.opcode() == H_PUT_TCE_INDIRECT;
            long first = op.ioba() >>> (g == null ? 12 : g.shift());
            boolean runsPast = g != null && multi && first >= g.offset() && first < g.offset() + g.size()
                    && Long.compareUnsigned(op.npages(), g.offset() + g.size() - first) > 0;
            if (!runsPast) throw new AssertionError(op + " reached host memory without running past its window: " + hostMemory);
            cov[C_HOST_MEMORY]++;
            hostMemory.clear();
        }

        /** The bus addresses to probe after {@code op}: what it touched, window edges, random ones. */
        List<Long> addresses(Op op) {
            List<Long> a = new ArrayList<>();
            a.add(op.ioba());
            for (Geo g : GEOS) {
                if (op.liobn() != g.liobn()) continue;
                long n = Math.min(Math.max(op.npages(), 1), 3);
                for (long k = 1; k < n; k++) a.add(op.ioba() + k * g.pageSize());
                if (op.npages() > 1 && op.npages() <= g.size()) a.add(op.ioba() + (op.npages() - 1) * g.pageSize());
            }
            for (int i = 0; i < 4; i++) {
                Geo g = GEOS.get(probe.nextInt(GEOS.size()));
                a.add(((g.offset() + probe.nextLong(g.size())) << g.shift()) + probe.nextLong(g.pageSize()));
            }
            a.add(anyLong(probe));
            return a;
        }

        void checkIsolation(Op op) {
            List<Long> addrs = addresses(op);
            for (long iova : addrs) {
                probes++;
                if (glue != null) checkVhost(op, iova);
                for (int d = 0; d < devices.size(); d++) checkDma(op, devices.get(d), iova);
            }
            for (Recorder rec : vfio) {
                checkHw(rec, rec.touchedNow, op.toString());
                rec.touchedNow.clear();
                HwTceTable hw = rec.vfio.hwTable();
                for (long iova : addrs) {
                    long idx = iova >>> hw.pageShift();
                    if (hw.contains(idx)) checkHwEntry(hw, idx, op.toString());
                }
            }
        }

        void checkVhost(Op op, long iova) {
            // (i) QEMU's answer to a miss, for each access.
            for (int access = 1; access <= 3; access++) {
                IotlbMsg u = glue.translate(iova, access);
                if (u == null) continue;
                cov[C_QEMU_TRANSLATED]++;
                if (u.type() != IotlbMsg.UPDATE || u.size() <= 0 || !mem.containsHva(u.uaddr(), u.size()))
                    throw new AssertionError("after " + op + ": QEMU translates iova 0x" + Long.toHexString(iova)
                            + " (access " + access + ") to " + u + ", outside guest RAM's mapping [0x"
                            + Long.toHexString(mem.hvaBase()) + ", +0x" + Long.toHexString(mem.ramBytes()) + ")");
            }
            // vhost itself, its misses answered the way QEMU answers them.
            int access = 1 + probe.nextInt(3);
            long len = 1 + probe.nextInt(2 * 4096);
            for (int attempt = 0; attempt < 4; attempt++) {
                VhostDevice.TranslateResult tr = vhost.translate(probe.nextInt(2), iova, len, access);
                drainMisses(op);
                if (tr instanceof VhostDevice.TranslateResult.Mapped m) {
                    cov[C_VHOST_MAPPED]++;
                    for (VhostDevice.Segment s : m.segments())
                        if (s.len() <= 0 || !mem.containsHva(s.hva(), s.len()))
                            throw new AssertionError("after " + op + ": vhost translates [0x" + Long.toHexString(iova) + ", +"
                                    + len + ") to segment " + s + " outside guest RAM's mapping; IOTLB " + vhost.iotlb().entries());
                    return;
                }
                if (!(tr instanceof VhostDevice.TranslateResult.Miss)) return;
            }
        }

        void drainMisses(Op op) {
            while (glue.missPending()) {
                IotlbMsg upd = glue.readAndTranslate();
                if (upd == null) continue;
                long rc = glue.sendUpdate(upd);
                if (rc != VhostMsgCodec.FRAME_SIZE) throw new AssertionError("after " + op + ": UPDATE " + upd + " refused: " + rc);
            }
        }

        void checkDma(Op op, PassthroughDevice dev, long iova) {
            dev.clearFreeze();
            int len = 1 + probe.nextInt(8192);
            DmaResult d = probe.nextBoolean() ? dev.dmaWrite(iova, len) : dev.dmaRead(iova, len);
            if (d.status() == DmaResult.Status.OUTSIDE_GUEST_RAM)
                throw new AssertionError("after " + op + ": passthrough DMA left guest RAM: " + d);
            if (d.ok()) {
                cov[C_DMA_OK]++;
                for (int i = 0; i < d.segments(); i++)
                    if (!mem.contains(d.gpa(i), d.length(i)))
                        throw new AssertionError("after " + op + ": DMA OK at gpa 0x" + Long.toHexString(d.gpa(i)) + " outside RAM: " + d);
            }
        }

        void checkHw(Recorder rec, Set<Long> idxs, String when) {
            for (long idx : idxs) checkHwEntry(rec.vfio.hwTable(), idx, when);
        }

        void checkHwEntry(HwTceTable hw, long idx, String when) {
            long e = hw.get(idx);
            if (!Tce.valid(e)) return;
            cov[C_HW_VALID]++;
            long gpa = hw.toGpa(Tce.gpa(e));
            if (!mem.contains(gpa, hw.pageSize()))
                throw new AssertionError("after " + when + ": hardware TCE[" + idx + "] = 0x" + Long.toHexString(e)
                        + " points at gpa 0x" + Long.toHexString(gpa) + ", outside guest RAM");
        }
    }

    // ------------------------------------------------------------------ properties

    static final int C_CALLS = 0, C_SUCCESS_WRITE = 1, C_QEMU_TRANSLATED = 2, C_VHOST_MAPPED = 3, C_DMA_OK = 4, C_HW_VALID = 5, C_HOST_MEMORY = 6;
    static final String[] C_NAMES = {"hypercalls", "successful TCE writes", "QEMU translations for vhost",
            "vhost translations", "passthrough DMAs OK", "valid hardware TCEs checked", "calls past a window (host memory)"};

    /**
     * The properties must not hold vacuously: with a real budget, every check must have seen its positive
     * case (translations that exist, DMAs that succeed, hardware entries that are valid).
     */
    static void assertCovered(String name, int cases, long[] cov, int... needed) {
        StringBuilder b = new StringBuilder(name + " (" + cases + " sequences):");
        for (int i = 0; i < cov.length; i++) b.append(' ').append(C_NAMES[i]).append('=').append(cov[i]);
        System.out.println(b);
        if (cases < 1000 || System.getProperty(Property.SEED_PROPERTY) != null) return;
        for (int i : needed)
            if (cov[i] == 0) throw new AssertionError("vacuous fuzz run, no " + C_NAMES[i] + ": " + b);
    }

    @Test
    void hostileHypercallsThroughKvmKeepIsolation() {
        long[] cov = new long[C_NAMES.length];
        int n = FuzzBudget.share(0.60);
        Property.forAll("fuzz-hcall-kvm", n, cases(true), shrinker(), c -> new Rig(c, true, cov).run());
        assertCovered("fuzz-hcall-kvm", n, cov, C_CALLS, C_SUCCESS_WRITE, C_QEMU_TRANSLATED, C_VHOST_MAPPED, C_DMA_OK, C_HW_VALID, C_HOST_MEMORY);
    }

    @Test
    void hostileHypercallsToQemuAloneKeepIsolation() {
        long[] cov = new long[C_NAMES.length];
        int n = FuzzBudget.share(0.25);
        Property.forAll("fuzz-hcall-qemu", n, cases(false), shrinker(), c -> new Rig(c, false, cov).run());
        assertCovered("fuzz-hcall-qemu", n, cov, C_CALLS, C_SUCCESS_WRITE, C_QEMU_TRANSLATED, C_VHOST_MAPPED);
    }
}
