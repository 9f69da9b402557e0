package tcesim.kvm;

import static tcesim.papr.Hcall.*;

import java.util.TreeMap;
import tcesim.mem.GuestMemory;
import tcesim.mem.HostMemoryListener;
import tcesim.papr.HcallRegs;
import tcesim.papr.TceTable;

/**
 * The KVM virtual machine as far as TCE tables go.
 *
 * <p>Models {@code struct kvm} with its {@code arch.spapr_tce_tables} list, the VM ioctl
 * {@code KVM_CREATE_SPAPR_TCE_64} ({@code kvm_vm_ioctl_create_spapr_tce}: {@code -EINVAL} for size 0,
 * page_shift outside 12..34 or a window past 2^64; {@code -EBUSY} for a LIOBN already present), and the
 * hypercall path of a vCPU: the real-mode handler (when the host has one, {@link HostCaps#realMode()}),
 * then the virtual-mode handler, each handing the call on with H_TOO_HARD, and finally an exit to userspace
 * ({@code kvmppc_pseries_do_hcall}: {@code if (ret == H_TOO_HARD) return RESUME_HOST}). A call that real
 * mode punts (POWER9 radix, 2019) is counted where it completes, in virtual mode; the real-mode entry it
 * paid for is {@link HostCaps#enteredRealMode()}.
 */
public final class Kvm {
    public static final int EINVAL = 22;
    public static final int EBUSY = 16;

    /** The handler of a hypercall that KVM could not finish: QEMU's {@code spapr_hypercall}. */
    public interface UserspaceExit {
        long papr_hcall(HcallRegs regs);
    }

    private final HostCaps caps;
    private final GuestMemory mem;
    private final TreeMap<Long, KvmSpaprTceTable> tables = new TreeMap<>();
    /** The same tables in LIOBN order, for the lookups of every hypercall (a guest has one or two windows). */
    private KvmSpaprTceTable[] byLiobn = new KvmSpaprTceTable[0];
    /** The registers as the guest passed them, put back when a handler punts (the vCPU's saved GPRs). */
    private final HcallRegs entryRegs = new HcallRegs();
    private final KvmTceHandlers handlers;
    private UserspaceExit userspace = regs -> H_FUNCTION;

    public Kvm(HostCaps caps, GuestMemory mem, KvmPolicy policy) {
        this(caps, mem, policy, HostMemoryListener.NONE);
    }

    /** @param hostMemory told when a handler indexes past a table it owns (see {@link HostMemoryListener}) */
    public Kvm(HostCaps caps, GuestMemory mem, KvmPolicy policy, HostMemoryListener hostMemory) {
        this.caps = caps;
        this.mem = mem;
        this.handlers = new KvmTceHandlers(this::table, mem, policy, caps, hostMemory);
    }

    public HostCaps caps() { return caps; }
    public GuestMemory memory() { return mem; }

    public void setUserspaceExit(UserspaceExit exit) { this.userspace = exit; }

    /**
     * {@code KVM_CREATE_SPAPR_TCE_64}. Returns the table (QEMU maps it and sees the same entries), or throws
     * {@link KvmError} with the errno the ioctl would fail with.
     */
    public KvmSpaprTceTable createSpaprTce64(long liobn, int pageShift, long offset, long size) {
        if (!caps.spaprTce()) throw new KvmError(EINVAL, "KVM_CREATE_SPAPR_TCE_64 without KVM_CAP_SPAPR_TCE_64");
        String err = TceTable.checkGeometry(pageShift, offset, size);
        if (err != null) throw new KvmError(EINVAL, err);
        if (tables.containsKey(liobn)) throw new KvmError(EBUSY, String.format("LIOBN 0x%x exists", liobn));
        KvmSpaprTceTable stt = new KvmSpaprTceTable(new TceTable(liobn, pageShift, offset, size));
        tables.put(liobn, stt);
        byLiobn = tables.values().toArray(new KvmSpaprTceTable[0]);
        return stt;
    }

    /** Closing the table's fd: the LIOBN is no longer handled in the kernel. */
    public void releaseSpaprTce(long liobn) {
        tables.remove(liobn);
        byLiobn = tables.values().toArray(new KvmSpaprTceTable[0]);
    }

    public KvmSpaprTceTable table(long liobn) {
        for (KvmSpaprTceTable t : byLiobn) if (t.table().liobn() == liobn) return t;
        return null;
    }

    /**
     * One hypercall from the guest: the handler chain, with the return code left in {@code regs.r3}
     * (and r4 for H_GET_TCE). Returns the path that finished it.
     */
    public HcallPath hcall(HcallRegs regs) {
        HcallPath p = hcallInKernel(regs);
        return p != null ? p : completeExit(regs);
    }

    /**
     * The in-kernel part of a hypercall: real mode (when the host has it), then virtual mode. Returns the
     * path that finished it, or null when the call must exit to userspace; {@code regs} then holds the
     * call unchanged for {@link #completeExit}.
     */
    public HcallPath hcallInKernel(HcallRegs regs) {
        HcallRegs in = entryRegs.set(regs.r3, regs.r4, regs.r5, regs.r6, regs.r7);
        long rc;
        if (caps.realMode() != HostCaps.RealMode.NONE) {
            rc = handlers.hcall(KvmTceHandlers.Mode.REAL, regs);
            if (rc != H_TOO_HARD) return finish(regs, rc, HcallPath.REAL_MODE);
            restore(regs, in);
        }
        rc = handlers.hcall(KvmTceHandlers.Mode.VIRTUAL, regs);
        if (rc != H_TOO_HARD) return finish(regs, rc, HcallPath.VIRTUAL_MODE);
        restore(regs, in);
        return null;
    }

    /** The exit to userspace ({@code KVM_EXIT_PAPR_HCALL}): QEMU handles the call and the vCPU resumes. */
    public HcallPath completeExit(HcallRegs regs) {
        return finish(regs, userspace.papr_hcall(regs), HcallPath.QEMU);
    }

    private static HcallPath finish(HcallRegs regs, long rc, HcallPath path) {
        regs.r3 = rc;
        return path;
    }

    private static void restore(HcallRegs regs, HcallRegs in) {
        regs.set(in.r3, in.r4, in.r5, in.r6, in.r7);
    }

    /** An ioctl failure, with its errno. */
    public static final class KvmError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        public KvmError(int errno, String message) {
            super(message);
            this.errno = errno;
        }

        public int errno() { return errno; }
    }
}
