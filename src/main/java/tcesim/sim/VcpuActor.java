package tcesim.sim;

import tcesim.guest.DmaOp;
import tcesim.guest.DriverWork;
import tcesim.guest.PassthroughNicDriver;
import tcesim.guest.PseriesIommu;
import tcesim.guest.VirtioBlkDriver;
import tcesim.guest.VirtioNetDriver;
import tcesim.kvm.HcallPath;
import tcesim.kvm.IotlbEventfd;
import tcesim.kvm.Kvm;
import tcesim.mem.GuestMemory;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;
import tcesim.qemu.Spapr;
import tcesim.qemu.SpaprTceTable;

/**
 * A guest vCPU running the virtio-net driver (RX on vCPU 0, TX on the last vCPU) and the rest of the kernel.
 *
 * <p>Models the guest kernel on a vCPU (its drivers, {@link VirtioNetDriver}, {@link PassthroughNicDriver},
 * {@link VirtioBlkDriver}, mapping through {@link PseriesIommu}) with what runs its hypercalls: KVM's handlers
 * ({@link Kvm}) and, for a call KVM hands on, QEMU's vCPU thread ({@code kvm_cpu_exec}, accel/kvm/kvm-all.c), whose
 * {@code kvm_arch_handle_exit} (target/ppc/kvm.c) takes the BQL and runs {@code spapr_hypercall} for
 * {@code KVM_EXIT_PAPR_HCALL}. One step is one hypercall, or the guest-internal work around it; a call that exits
 * to QEMU while QEMU's main loop holds the BQL waits for it, and in design D3b a call done in KVM does not return
 * before QEMU has acknowledged the ranges it cleared.
 */
final class VcpuActor implements Actor, tcesim.state.Snapshot {
    static final int CONTINUE = 0, RX_REAP = 1, RX_REFILL = 2, TX_SEND = 3, TX_REAP = 4, KALLOC = 5, KFREE = 6, EXIT = 7, RX_REVOKE = 8,
            PT_REFILL = 9, PT_REAP = 10, RETURN = 11, CLEAR_DDW = 12, REMOVE_DDW = 13, PT_REVOKE = 14, BLK_SUBMIT = 15, BLK_REAP = 16;
    private static final String[] NAMES = {"hcall", "rx-reap", "rx-refill", "tx-send", "tx-reap", "kernel-alloc", "kernel-free", "exit-to-qemu",
            "rx-revoke", "pt-refill", "pt-reap", "hcall-return", "clear-ddw", "remove-ddw", "pt-revoke", "blk-submit", "blk-reap"};
    /** At most this many pages held by the rest of the guest kernel ({@link #KALLOC}). */
    static final int KERNEL_PAGES_MAX = 8;

    private final Stack stack;
    private final StackConfig cfg;
    private final Trace trace;
    private final Clocks clocks;
    private final Kvm kvm;
    private final Spapr spapr;
    private final VirtioNetDriver driver;
    /** The passthrough NIC's and the disk's drivers, or null. */
    private final PassthroughNicDriver ptDriver;
    private final VirtioBlkDriver blkDriver;
    /** Designs D3a/D3b: the eventfd KVM signals; null otherwise. */
    private final IotlbEventfd eventfd;
    /** Whose BQL a hypercall that exits to QEMU waits for. */
    private final QemuMainLoop qemuLoop;

    private final int cpu;
    private final String name;
    /** RX (and the rest of the guest's work) runs on vCPU 0, TX on the last vCPU. */
    private final boolean rxCpu, txCpu;
    private DriverWork pending;
    private HcallRegs blocked;
    private HcallRegs blockedIn;
    /** D3b: the hypercall is done in KVM but does not return before QEMU acknowledges range {@code waitAck}. */
    private HcallRegs waiting;
    private HcallRegs waitingIn;
    private HcallPath waitingPath;
    private long waitAck;
    /** For latencies: when the TX send under way began, and when the packet being reaped arrived. */
    private double sendStarted;
    private double reapArrival;
    /** Linux's remove_ddw has cleared the 64-bit window and is about to call ibm,remove-pe-dma-window. */
    private boolean ddwCleared;
    /** The registers of the hypercall being issued, before the call (kept only when the call is parked). */
    private final HcallRegs callIn = new HcallRegs();

    /** vCPU {@code cpu} of {@code stack}, made once the guest's drivers and QEMU's main loop exist. */
    VcpuActor(Stack stack, int cpu) {
        this.stack = stack;
        this.cfg = stack.config();
        this.trace = stack.trace();
        this.clocks = stack.clocks();
        this.kvm = stack.kvm();
        this.spapr = stack.spapr();
        this.driver = stack.driver();
        this.ptDriver = stack.passthroughDriver();
        this.blkDriver = stack.blkDriver();
        this.eventfd = stack.eventfd();
        this.qemuLoop = stack.qemuLoop();
        this.cpu = cpu;
        this.name = name(cpu);
        this.rxCpu = cpu == 0;
        this.txCpu = cpu == cfg.vcpus() - 1;
    }

    /** The name of vCPU {@code cpu}, in the trace and the step list. */
    static String name(int cpu) { return "vcpu" + cpu; }

    @Override public String name() { return name; }
    @Override public String stepName(int kind) { return NAMES[kind]; }

    private boolean rxCpu() { return rxCpu; }
    private boolean txCpu() { return txCpu; }

    @Override
    public void enabledSteps(StepList out) {
        if (blocked != null) {
            if (!qemuLoop.holdsBql()) out.add(this, EXIT);
            return;
        }
        if (waiting != null) {
            if (eventfd.acked() >= waitAck) out.add(this, RETURN);
            return;
        }
        if (pending != null) {
            out.add(this, CONTINUE);
            return;
        }
        if (rxCpu() && driver.canReapRx()) out.add(this, RX_REAP);
        if (rxCpu() && driver.canRefillRx() && rxRefillWanted()) out.add(this, RX_REFILL);
        if (rxCpu() && revokeDue() && driver.canRevokeRx()) out.add(this, RX_REVOKE);
        if (rxCpu() && ptRevokeDue() && ptDriver.canRevoke()) out.add(this, PT_REVOKE);
        if (rxCpu() && ddwRemovalDue()) {
            boolean clearFirst = cfg.ddwRemoval() == StackConfig.DdwRemoval.LINUX && !ddwCleared;
            // The RTAS call is handled by QEMU under the BQL.
            if (clearFirst) out.add(this, CLEAR_DDW);
            else if (!qemuLoop.holdsBql()) out.add(this, REMOVE_DDW);
        }
        if (rxCpu() && ptDriver != null && ptDriver.canReap()) out.add(this, PT_REAP);
        if (rxCpu() && ptDriver != null && ptDriver.canRefill()) out.add(this, PT_REFILL);
        if (txCpu() && driver.canSendTx() && (!cfg.requestResponse() || driver.rxDelivered() > driver.txQueued())) out.add(this, TX_SEND);
        if (txCpu() && driver.canReapTx()) out.add(this, TX_REAP);
        // The disk's requests are submitted and completed on vCPU 0 (where its interrupt lands).
        if (rxCpu() && blkDriver != null && blkDriver.canReap()) out.add(this, BLK_REAP);
        if (rxCpu() && blkDriver != null && blkDriver.canSubmit() && diskDue()) out.add(this, BLK_SUBMIT);
        if (cfg.kernelChurn() && !stack.workloadDone()) {
            if (driver.kernelPagesHeld() < KERNEL_PAGES_MAX) out.add(this, KALLOC);
            if (driver.kernelPagesHeld() > 0) out.add(this, KFREE);
        }
    }

    /** The guest's revocations are spread over the RX stream: the k-th once k/(n+1) of it has been delivered. */
    private boolean revokeDue() {
        long k = driver.rxRevoked();
        return k < cfg.rxRevokes() && driver.rxDelivered() * (cfg.rxRevokes() + 1) >= (k + 1) * cfg.rxPackets();
    }

    /** With no virtio-net RX stream (design V's guest), the revocations take passthrough buffers back, spread the same way. */
    private boolean ptRevokeDue() {
        if (ptDriver == null || cfg.rxPackets() > 0) return false;
        long k = ptDriver.revoked();
        return k < cfg.rxRevokes() && ptDriver.delivered() * (cfg.rxRevokes() + 1) >= (k + 1) * cfg.passthroughPackets();
    }

    /** The DDW guest gives its 64-bit window back half-way through the RX stream. */
    private boolean ddwRemovalDue() {
        return cfg.ddwRemoval() != StackConfig.DdwRemoval.NONE && driver.iommu().direct() && driver.rxDelivered() * 2 >= cfg.rxPackets();
    }

    /**
     * The disk's requests are spread over the network traffic: request k is started once k/n of the packets (both ways,
     * passthrough ones included) are through.
     */
    private boolean diskDue() {
        long total = cfg.rxPackets() + cfg.txPackets() + cfg.passthroughPackets();
        long done = driver.rxDelivered() + driver.rxDropped() + driver.txCompleted() + (ptDriver == null ? 0 : ptDriver.delivered());
        return !lessThan(done, cfg.diskRequests(), blkDriver.submitted(), total);
    }

    private boolean rxRefillWanted() {
        return driver.rxDelivered() + driver.rxDropped() + driver.rx().outstanding() < cfg.rxPackets();
    }

    @Override
    public void step(int kind) {
        stack.lane(CostLedger.Lane.VCPU);
        CostLedger ledger = stack.ledger();
        switch (kind) {
            case EXIT -> ledger.after(clocks.bqlFree);
            case RETURN -> ledger.after(clocks.acked);
            case RX_REAP -> {
                reapArrival = clocks.rxUsedArrival.poll();
                ledger.after(clocks.rxUsed.poll());
            }
            case TX_REAP -> ledger.after(clocks.txUsed.poll());
            case PT_REAP -> {
                reapArrival = clocks.ptArrival.poll();
                ledger.after(clocks.ptUsed.poll());
            }
            case TX_SEND -> sendStarted = ledger.now();
            case BLK_REAP -> ledger.after(clocks.blkUsed.poll());
            default -> { }
        }
        switch (kind) {
            case EXIT -> {
                HcallRegs r = blocked;
                blocked = null;
                kvm.completeExit(r);
                stack.chargeExit();
                stack.traceHcall(name, blockedIn, r, HcallPath.QEMU);
                endHcall(r);
            }
            case CONTINUE -> issue();
            case RETURN -> {
                HcallRegs r = waiting;
                waiting = null;
                stack.traceHcall(name, waitingIn, r, waitingPath);
                endHcall(r);
            }
            case RX_REAP -> start(driver.reapRx(cpu));
            case RX_REFILL -> start(driver.refillRx(cpu));
            case RX_REVOKE -> start(driver.revokeRx(cpu));
            case CLEAR_DDW -> start(DriverWork.kernel(DriverWork.Kind.DDW_CLEAR,
                    driver.iommu().clearWindow(Stack.DDW_LIOBN, Stack.DDW_SHIFT, Spapr.DDW_BUS_OFFSET >>> Stack.DDW_SHIFT, (int) (cfg.ramBytes() >>> Stack.DDW_SHIFT))));
            case REMOVE_DDW -> {
                // ibm,remove-pe-dma-window (RTAS, handled by QEMU under the BQL): QEMU deletes the window's IOMMU region
                // (vhost_iommu_region_del unregisters the notifier and sends nothing) and the table; the guest maps
                // through TCEs again.
                stack.removeDdw();
                ddwCleared = false;
                driver.iommu().stopDirectWindow();
                if (trace.enabled()) trace.emit(name, "remove-ddw", Event.NONE, Event.NONE, "ibm,remove-pe-dma-window: the 64-bit window is gone; vhost was told nothing");
            }
            case PT_REVOKE -> start(ptDriver.revoke(cpu));
            case PT_REFILL -> start(ptDriver.refill(cpu));
            case PT_REAP -> start(ptDriver.reap(cpu));
            case TX_SEND -> start(driver.sendTx(cpu));
            case TX_REAP -> start(driver.reapTx(cpu));
            case BLK_SUBMIT -> start(blkDriver.submit(cpu));
            case BLK_REAP -> start(blkDriver.reap(cpu));
            case KALLOC -> {
                driver.kernelAlloc();
                trace.emit(name, "kernel-alloc", Event.NONE, Event.NONE, "a kernel object takes a page");
            }
            case KFREE -> driver.kernelFree();
            default -> throw new IllegalArgumentException("step " + kind);
        }
    }

    /** Starts a driver operation and makes its first hypercall in the same step. */
    private void start(DriverWork p) {
        if (p == null) return;
        pending = p;
        if (p.op().done()) finishPending();
        else issue();
    }

    private void issue() {
        CostLedger ledger = stack.ledger();
        DmaOp op = pending.op();
        HcallRegs r = op.begin();
        // The call as the guest made it, for the trace and the statistics (the handlers overwrite r3 and r4).
        HcallRegs in = callIn.set(r.r3, r.r4, r.r5, r.r6, r.r7);
        long signalled = eventfd == null ? 0 : eventfd.queued();
        HcallPath path = kvm.hcallInKernel(r);
        stack.chargeInKernel(path == null ? HcallPath.QEMU : path);
        if (eventfd != null) for (long s = signalled; s < eventfd.queued(); s++) clocks.signals.add(ledger.now());
        if (path == null) {
            if (qemuLoop.holdsBql()) {
                blocked = r;
                blockedIn = in.copy();
                if (trace.enabled()) trace.emit(name, "wait-bql", in.r5, Event.NONE, in.describeCall() + " exits to QEMU and waits for the BQL");
                return;
            }
            path = kvm.completeExit(r);
            stack.chargeExit();
        }
        if (path != HcallPath.QEMU && eventfd != null && eventfd.synchronous() && eventfd.queued() > eventfd.acked()) {
            waiting = r;
            waitingIn = in.copy();
            waitingPath = path;
            waitAck = eventfd.queued();
            if (trace.enabled()) trace.emit(name, "wait-ack", in.r5, Event.NONE, in.describeCall() + " done in KVM; waits for QEMU to acknowledge the INVALIDATE");
            return;
        }
        stack.traceHcall(name, in, r, path);
        endHcall(r);
    }

    /** The driver work in progress and a hypercall parked at the BQL or waiting for QEMU's acknowledgement. */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(ddwCleared);
        out.put(pending != null);
        if (pending != null) {
            out.put(ownerIndex(pending.owner()));
            pending.save(out);
        }
        // The copies of a call's arguments matter only while it is parked.
        saveRegs(out, blocked);
        if (blocked != null) saveRegs(out, blockedIn);
        saveRegs(out, waiting);
        if (waiting != null) {
            saveRegs(out, waitingIn);
            out.put(waitingPath.ordinal(), waitAck);
        }
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        ddwCleared = in.nextBool();
        pending = null;
        if (in.nextBool()) {
            DriverWork.Owner o = owner(in.nextInt());
            pending = DriverWork.restore(in, driver.iommu(), o);
        }
        blocked = restoreRegs(in);
        blockedIn = blocked == null ? null : restoreRegs(in);
        waiting = restoreRegs(in);
        waitingIn = null;
        waitingPath = null;
        waitAck = 0;
        if (waiting != null) {
            waitingIn = restoreRegs(in);
            waitingPath = HcallPath.values()[in.nextInt()];
            waitAck = in.next();
        }
        // A call parked at the BQL still has QEMU to read its TCE list: write it again, as it was.
        if (blocked != null) pending.op().begin();
    }

    /** Whether this vCPU is inside a hypercall (not yet returned to the guest) that covers bus address {@code iova}. */
    boolean inHypercallOver(long iova) {
        HcallRegs r = waiting != null ? waitingIn : blocked != null ? blockedIn : null;
        if (r == null) return false;
        SpaprTceTable t = spapr.table(r.r4);
        if (t == null) return false;
        long n = r.r3 == Hcall.H_PUT_TCE ? 1 : r.r7;
        long first = r.r5 & t.table().pageMask();
        return Long.compareUnsigned(iova - first, n << t.pageShift()) < 0;
    }

    private void endHcall(HcallRegs r) {
        pending.op().end(r);
        if (pending.op().done()) finishPending();
    }

    private void finishPending() {
        CostLedger ledger = stack.ledger();
        DriverWork p = pending;
        pending = null;
        int blkAvail = blkDriver == null ? 0 : blkDriver.ring().availCount();
        DriverWork follow = null;
        if (p.owner() != null) {
            p.owner().finish(p);
            follow = p.owner().next(cpu);
        }
        if (blkDriver != null && blkDriver.ring().availCount() > blkAvail) clocks.blkPosted.add(ledger.now());
        if (p.kind() == DriverWork.Kind.DDW_CLEAR) ddwCleared = true;
        if (p.kind() == DriverWork.Kind.RX_REAP || p.kind() == DriverWork.Kind.TX_SEND || p.kind() == DriverWork.Kind.PT_REAP) {
            ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.GUEST_PACKET, 1);
        }
        boolean posted = !p.op().mappingFailed();
        switch (p.kind()) {
            case RX_REFILL -> {
                if (posted) clocks.rxPosted.add(ledger.now());
            }
            case TX_SEND -> {
                if (posted) {
                    clocks.txPosted.add(ledger.now());
                    clocks.txStarted.add(sendStarted);
                }
            }
            case PT_REFILL -> {
                if (posted) clocks.ptPosted.add(ledger.now());
            }
            case RX_REAP, PT_REAP -> clocks.rxLatency.add(ledger.now() - reapArrival);
            default -> { }
        }
        if (trace.enabled()) trace.emit(name, p.kind().name().toLowerCase().replace('_', '-'), p.op().dmaAddr(), p.buffer().pfn() << GuestMemory.PAGE_SHIFT,
                String.format("%s page 0x%x at iova 0x%x", p.kind().done(), p.buffer().pfn() << GuestMemory.PAGE_SHIFT, p.op().dmaAddr()));
        // The rest of the driver's sequence (a disk request's other buffers) comes next on this vCPU, a hypercall a step.
        if (follow != null) {
            pending = follow;
            if (follow.op().done()) finishPending();
        }
    }

    /** The driver whose work a vCPU is doing, as a saved number. */
    private int ownerIndex(DriverWork.Owner o) { return o == null ? 2 : o == driver ? 0 : o == blkDriver ? 3 : 1; }

    private DriverWork.Owner owner(int index) { return index == 2 ? null : index == 0 ? driver : index == 3 ? blkDriver : ptDriver; }

    private static void saveRegs(tcesim.state.StateWriter out, HcallRegs r) {
        out.put(r != null);
        if (r == null) return;
        out.put(r.r3, r.r4);
        out.put(r.r5, r.r6);
        out.put(r.r7);
    }

    private static HcallRegs restoreRegs(tcesim.state.StateReader in) {
        if (!in.nextBool()) return null;
        return new HcallRegs().set(in.next(), in.next(), in.next(), in.next(), in.next());
    }

    /** Whether {@code a * b < c * d}, for values that are not negative, without overflow. */
    private static boolean lessThan(long a, long b, long c, long d) {
        long hi1 = Math.multiplyHigh(a, b), hi2 = Math.multiplyHigh(c, d);
        return hi1 != hi2 ? hi1 < hi2 : Long.compareUnsigned(a * b, c * d) < 0;
    }
}
