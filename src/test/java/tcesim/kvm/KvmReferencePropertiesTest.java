package tcesim.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static tcesim.papr.Hcall.*;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import tcesim.kvm.HostCaps.HostKernel;
import tcesim.kvm.HostCaps.RealMode;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;
import tcesim.testutil.HcallOps;
import tcesim.testutil.HcallOps.Geo;
import tcesim.testutil.HcallOps.Op;
import tcesim.testutil.Property;

/**
 * KVM's hypercall path ({@link Kvm#hcallInKernel}: real mode as the host has it, then virtual mode) against a
 * reference written from the rules of spec 01 and the {@link KvmTceHandlers} header: same path, same return
 * code, same H_GET_TCE value, same entries. The reference shares nothing with the implementation: entries
 * in a TreeMap per window, bounds in exact (BigInteger) arithmetic on the unsigned register values, the
 * rules in the order the header states them.
 */
class KvmReferencePropertiesTest {
    static final long RAM = HcallOps.RAM;
    static final List<Geo> GEOS = HcallOps.GEOS;

    enum Mode { REAL, VIRTUAL }

    /** Where a call ended: in real mode, in virtual mode, or in an exit to QEMU (then {@code rc} is unused). */
    record Outcome(HcallPath path, long rc) {}

    static final class Reference {
        /** A KVM table page: one 64 KiB host page of 8-byte TCEs. */
        static final long TCES_PER_PAGE = 65536 / 8;

        final RealMode realMode;
        final Map<Long, Geo> windows = new HashMap<>();
        /** Per LIOBN: absolute entry index to its value; an entry not in the map is 0. */
        final Map<Long, TreeMap<Long, Long>> entries = new HashMap<>();
        /** Per LIOBN: the table pages that ever held a non-zero value (KVM allocates a page on such a write). */
        final Map<Long, Set<Long>> allocated = new HashMap<>();
        long r4;

        /** The kernel checks every entry a call names (current); else the first one only (2019, 2022). */
        final boolean everyEntry;

        Reference(RealMode realMode, boolean everyEntry) {
            this.everyEntry = everyEntry;
            this.realMode = realMode;
            for (Geo g : GEOS) {
                windows.put(g.liobn(), g);
                entries.put(g.liobn(), new TreeMap<>());
                allocated.put(g.liobn(), new HashSet<>());
            }
        }

        static BigInteger unsigned(long v) {
            return new BigInteger(Long.toUnsignedString(v));
        }

        /**
         * The ioba is aligned to the table's page and entries [ioba / page, ioba / page + npages) lie in the window
         * (current kernels), or its first entry does, whatever npages (2019 and 2022: iommu_tce_check_ioba).
         */
        boolean iobaOk(Geo g, long ioba, long npages) {
            if (!everyEntry) return iobaOkEveryEntry(g, ioba, 1);
            return iobaOkEveryEntry(g, ioba, npages);
        }

        static boolean iobaOkEveryEntry(Geo g, long ioba, long npages) {
            BigInteger page = BigInteger.valueOf(g.pageSize());
            BigInteger a = unsigned(ioba);
            if (a.mod(page).signum() != 0) return false;
            BigInteger first = a.divide(page);
            BigInteger end = first.add(unsigned(npages));
            BigInteger windowFirst = BigInteger.valueOf(g.offset());
            BigInteger windowEnd = windowFirst.add(BigInteger.valueOf(g.size()));
            return first.compareTo(windowFirst) >= 0 && end.compareTo(windowEnd) <= 0;
        }

        /** A guest physical address inside guest RAM (one memslot from 0). */
        static boolean inRam(long gpa) {
            return unsigned(gpa).compareTo(BigInteger.valueOf(RAM)) < 0;
        }

        static boolean hasPermission(long tce) {
            return (tce & 0x3) != 0;
        }

        static long address(long tce) {
            return tce & ~0x3L;
        }

        /** kvmppc_tce_validate / kvmppc_rm_tce_validate. */
        static long validate(Mode m, Geo g, long tce) {
            if (!hasPermission(tce)) return H_SUCCESS;
            if (unsigned(address(tce)).mod(BigInteger.valueOf(g.pageSize())).signum() != 0) return m == Mode.REAL ? H_PARAMETER : H_TOO_HARD;
            if (!inRam(address(tce))) return H_TOO_HARD;
            return H_SUCCESS;
        }

        /**
         * Real mode may only write into allocated table pages: those holding entries idx .. idx + npages - 1,
         * and with npages = 0 the page holding idx unless idx is the first entry of its page (counted from the
         * window's first entry).
         */
        boolean pagesAllocated(Geo g, long idx, long npages) {
            long rel = idx - g.offset();
            Set<Long> a = allocated.get(g.liobn());
            if (npages == 0) return rel % TCES_PER_PAGE == 0 || a.contains(rel / TCES_PER_PAGE);
            // Page by page from the one holding idx until the pages cover npages entries (npages may be huge on the
            // kernels that check the first entry only; a page past the table is never allocated).
            for (long p = rel / TCES_PER_PAGE; ; p++) {
                if (!a.contains(p)) return false;
                if (Long.compareUnsigned((p + 1) * TCES_PER_PAGE - rel, npages) >= 0) return true;
            }
        }

        void store(Geo g, long idx, long value) {
            if (value == 0) {
                entries.get(g.liobn()).remove(idx);
            } else {
                entries.get(g.liobn()).put(idx, value);
                allocated.get(g.liobn()).add((idx - g.offset()) / TCES_PER_PAGE);
            }
        }

        long entry(Geo g, long idx) {
            return entries.get(g.liobn()).getOrDefault(idx, 0L);
        }

        static long listTce(Op op, int i) {
            return i < op.list().size() ? op.list().get(i) : 0;
        }

        Outcome hcall(Op op) {
            if (realMode != RealMode.NONE) {
                long rc = call(Mode.REAL, op);
                if (rc != H_TOO_HARD) return new Outcome(HcallPath.REAL_MODE, rc);
            }
            long rc = call(Mode.VIRTUAL, op);
            return rc == H_TOO_HARD ? new Outcome(HcallPath.QEMU, 0) : new Outcome(HcallPath.VIRTUAL_MODE, rc);
        }

        long call(Mode m, Op op) {
            long opc = op.opcode();
            boolean tce = opc == H_GET_TCE || opc == H_PUT_TCE || opc == H_STUFF_TCE || opc == H_PUT_TCE_INDIRECT;
            if (!tce) return H_TOO_HARD;
            if (m == Mode.REAL && realMode == RealMode.PUNTS && opc != H_GET_TCE) return H_TOO_HARD;
            Geo g = windows.get(op.liobn());
            if (g == null) return H_TOO_HARD;
            BigInteger page = BigInteger.valueOf(g.pageSize());
            long idx = unsigned(op.ioba()).divide(page).longValueExact();   // ioba < 2^64 and page >= 2^12

            if (opc == H_GET_TCE) {
                if (!iobaOk(g, op.ioba(), 1)) return H_PARAMETER;
                r4 = entry(g, idx);
                return H_SUCCESS;
            }
            if (opc == H_PUT_TCE) {
                long v = op.arg();
                if (!iobaOk(g, op.ioba(), 1)) return H_PARAMETER;
                if (m == Mode.REAL && v != 0 && !pagesAllocated(g, idx, 1)) return H_TOO_HARD;
                long rc = validate(m, g, v);
                if (rc != H_SUCCESS) return rc;
                if (hasPermission(v) && !inRam(address(v))) return H_PARAMETER;
                store(g, idx, v);
                return H_SUCCESS;
            }
            long n = op.npages();
            if (opc == H_STUFF_TCE) {
                long v = op.arg();
                if (!iobaOk(g, op.ioba(), n)) return H_PARAMETER;
                if (m == Mode.REAL && v != 0 && !pagesAllocated(g, idx, n)) return H_TOO_HARD;
                if (hasPermission(v)) return H_PARAMETER;
                // Past the window the kernel writes host memory; the model writes nothing there (and reports it).
                for (long i = 0; Long.compareUnsigned(i, n) < 0 && idx + i < g.offset() + g.size(); i++) store(g, idx + i, v);
                return H_SUCCESS;
            }
            // H_PUT_TCE_INDIRECT
            if (unsigned(n).compareTo(BigInteger.valueOf(512)) > 0) return H_PARAMETER;
            if (op.arg() % 4096 != 0) return H_PARAMETER;
            if (!iobaOk(g, op.ioba(), n)) return H_PARAMETER;
            if (m == Mode.REAL && !pagesAllocated(g, idx, n)) return H_TOO_HARD;
            if (!inRam(op.arg())) return H_TOO_HARD;
            for (int i = 0; i < n; i++) {
                long rc = validate(m, g, listTce(op, i));
                if (rc != H_SUCCESS) return rc;
            }
            for (int i = 0; i < n; i++) {
                if (!inRam(address(listTce(op, i)))) return H_PARAMETER;
                if (idx + i < g.offset() + g.size()) store(g, idx + i, listTce(op, i));
            }
            return H_SUCCESS;
        }
    }

    /** The system under test: KVM with the tables of {@link HcallOps#GEOS} over one guest memory. */
    static final class Sut {
        final GuestMemory mem = new GuestMemory(RAM);
        final Kvm kvm;

        Sut(HostCaps host) {
            kvm = new Kvm(host, mem, KvmPolicy.STOCK);
            for (Geo g : GEOS) kvm.createSpaprTce64(g.liobn(), g.shift(), g.offset(), g.size());
        }

        TceTable table(Geo g) { return kvm.table(g.liobn()).table(); }
    }

    static void assertSameEntries(Sut sys, Reference ref, Geo g, long from, long to, String when) {
        TceTable t = sys.table(g);
        for (long i = Math.max(from, g.offset()); i < Math.min(to, g.offset() + g.size()); i++) {
            if (t.get(i) != ref.entry(g, i))
                throw new AssertionError(String.format("entry 0x%x of 0x%x %s: 0x%x, expected 0x%x", i, g.liobn(), when, t.get(i), ref.entry(g, i)));
        }
    }

    static void run(HostCaps host, List<Op> ops) {
        Sut sys = new Sut(host);
        Reference ref = new Reference(host.realMode(), host.kernel().iobaChecksEveryEntry());
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            HcallOps.writeList(sys.mem, op);
            HcallRegs regs = op.regs();
            Outcome want = ref.hcall(op);
            HcallPath path = sys.kvm.hcallInKernel(regs);
            String what = String.format("call %d %s on %s", i, op, host);
            assertThat(path == null ? HcallPath.QEMU : path).as("path of " + what).isEqualTo(want.path());
            if (path == null) {
                assertThat(regs.r3).as("an exit leaves the call as it was: " + what).isEqualTo(op.opcode());
            } else {
                assertThat(returnName(regs.r3)).as(what).isEqualTo(returnName(want.rc()));
                if (op.opcode() == H_GET_TCE && want.rc() == H_SUCCESS) assertThat(regs.r4).as("r4 of " + what).isEqualTo(ref.r4);
            }
            Geo g = ref.windows.get(op.liobn());
            if (g != null) {
                // What a call can change: its own window's entries from the ioba's entry on.
                long first = Reference.unsigned(op.ioba()).divide(BigInteger.valueOf(g.pageSize())).min(BigInteger.valueOf(Long.MAX_VALUE)).longValue();
                long n = Math.max(1, Reference.unsigned(op.npages()).min(BigInteger.valueOf(g.size())).longValue());
                assertSameEntries(sys, ref, g, first, first > Long.MAX_VALUE - n ? Long.MAX_VALUE : first + n, "after " + what);
            }
        }
        for (Geo g : GEOS) assertSameEntries(sys, ref, g, g.offset(), g.offset() + g.size(), "at the end");
    }

    @Test
    void power8HostRealModeHandlesAndFallsBackAsTheReferenceSays() {
        Property.forAll("kvm-power8-2019-vs-reference", Property.cases(), HcallOps.sequences(GEOS, RAM, 30), HcallOps.shrinker(),
                ops -> run(HostCaps.POWERNV8_HV, ops));
    }

    @Test
    void power9HostRealModePuntsAsTheReferenceSays() {
        Property.forAll("kvm-power9-2019-vs-reference", Property.cases(), HcallOps.sequences(GEOS, RAM, 30), HcallOps.shrinker(),
                ops -> run(HostCaps.POWERNV_HV, ops));
    }

    @Test
    void currentKernelsCheckEveryEntryAsTheReferenceSays() {
        Property.forAll("kvm-current-vs-reference", Property.cases(), HcallOps.sequences(GEOS, RAM, 30), HcallOps.shrinker(),
                ops -> run(HostCaps.POWERNV_HV.withKernel(HostKernel.CURRENT), ops));
    }

    @Test
    void kernel2022HasVirtualModeOnlyAsTheReferenceSays() {
        Property.forAll("kvm-2022-vs-reference", Property.cases(), HcallOps.sequences(GEOS, RAM, 30), HcallOps.shrinker(),
                ops -> run(HostCaps.POWERNV8_HV.withKernel(HostKernel.K2022), ops));
    }
}
