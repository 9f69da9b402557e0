package tcesim.bench;

import static tcesim.papr.Hcall.H_PUT_TCE;
import static tcesim.papr.Hcall.H_STUFF_TCE;
import static tcesim.papr.Hcall.H_SUCCESS;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tcesim.kvm.HostCaps;
import tcesim.kvm.Kvm;
import tcesim.kvm.KvmPolicy;
import tcesim.mem.GuestMemory;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.state.StateWriter;
import tcesim.vhost.VhostIotlb;

/** The pieces under the checker and the simulator: the state fingerprint, vhost's IOTLB lookup, KVM's TCE hypercalls. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MicroBenchmark {
    /** About the size of a saved state of the small configuration (73 to 136 words along a seeded run). */
    static final int STATE_WORDS = 80;
    /** Lookup addresses cycled through (a power of two). */
    static final int LOOKUPS = 4096;
    /** Default DMA window: 1 GiB of 4 KiB TCEs, as in the seed's configuration. */
    static final long WINDOW = 1L << 30;
    static final long LIOBN = 0x80000000L;
    /** IOVAs cycled through by the hypercall benchmark (a power of two). */
    static final int IOVAS = 256;

    long[] state;

    VhostIotlb iotlb;
    long[] addrs;
    int next;

    Kvm kvm;
    HcallRegs regs;
    long[] iovas;
    long[] tces;

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(42);
        state = new long[STATE_WORDS];
        for (int i = 0; i < state.length; i++) state[i] = r.nextLong();

        // A full IOTLB as vhost holds it in a long run: 2048 single-page entries at distinct IOVAs of the window.
        iotlb = new VhostIotlb(VhostIotlb.DEFAULT_MAX_ENTRIES);
        long pages = WINDOW >>> 12;
        long[] mapped = new long[VhostIotlb.DEFAULT_MAX_ENTRIES];
        java.util.HashSet<Long> used = new java.util.HashSet<>();
        for (int i = 0; i < mapped.length; i++) {
            long page;
            do page = r.nextLong(pages); while (!used.add(page));
            mapped[i] = page << 12;
            iotlb.insert(mapped[i], mapped[i] + 0xfff, 0x7f0000000000L + (r.nextLong(1L << 16) << 12), 3);
        }
        if (iotlb.size() != VhostIotlb.DEFAULT_MAX_ENTRIES) throw new IllegalStateException("IOTLB holds " + iotlb.size());
        addrs = new long[LOOKUPS];
        for (int i = 0; i < LOOKUPS; i++) addrs[i] = mapped[r.nextInt(mapped.length)] + r.nextLong(4096);

        // The seed's host (POWER9 PowerNV, 2019): real mode punts both calls to virtual mode, where they complete.
        GuestMemory mem = new GuestMemory(256L << 20);
        kvm = new Kvm(HostCaps.POWERNV_HV, mem, KvmPolicy.STOCK);
        kvm.createSpaprTce64(LIOBN, 12, 0, WINDOW >>> 12);
        regs = new HcallRegs();
        iovas = new long[IOVAS];
        tces = new long[IOVAS];
        for (int i = 0; i < IOVAS; i++) {
            iovas[i] = r.nextLong(pages) << 12;
            tces[i] = Tce.make(r.nextLong(mem.pages()) << 12, Tce.READ | Tce.WRITE);
            // Touch the table page first, so that the benchmark measures the steady state, not its allocation.
            putStuff(i);
        }
    }

    // Why it matters: the checker fingerprints every successor state it generates with this hash.
    @Benchmark
    public long stateHash80Words() {
        return StateWriter.hash(state, 0, state.length);
    }

    // Why it matters: vhost translates every descriptor and packet buffer through its IOTLB; 2048 is the kernel's default limit.
    @Benchmark
    public int vhostIotlbFindFull2048() {
        return iotlb.find(addrs[next++ & (LOOKUPS - 1)]);
    }

    // Why it matters: the Linux guest maps a one-page packet buffer with H_PUT_TCE and clears it with H_STUFF_TCE, so every simulated packet pays for this pair.
    @Benchmark
    public long kvmPutTceThenStuffTce() {
        return putStuff(next++ & (IOVAS - 1));
    }

    private long putStuff(int i) {
        regs.set(H_PUT_TCE, LIOBN, iovas[i], tces[i], 0);
        kvm.hcall(regs);
        long rc = regs.r3;
        regs.set(H_STUFF_TCE, LIOBN, iovas[i], 0, 1);
        kvm.hcall(regs);
        if ((rc | regs.r3) != H_SUCCESS) throw new IllegalStateException("hcall failed: " + rc + ", " + regs.r3);
        return rc;
    }
}
