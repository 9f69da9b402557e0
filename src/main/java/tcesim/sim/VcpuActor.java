package tcesim.sim;

import java.util.ArrayList;
import java.util.List;
import tcesim.guest.DmaOp;
import tcesim.guest.DriverWork;
import tcesim.guest.HostileHcall;
import tcesim.guest.PassthroughNicDriver;
import tcesim.guest.PseriesIommu;
import tcesim.guest.VirtioBlkDriver;
import tcesim.guest.VirtioNetDriver;
import tcesim.kvm.HcallPath;
import tcesim.kvm.IotlbEventfd;
import tcesim.kvm.Kvm;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;
import tcesim.qemu.Spapr;
import tcesim.qemu.SpaprTceTable;

/**
 * A guest vCPU: the guest kernel's work on it, one step at a time, and the hypercalls that work makes.
 *
 * <p>Models the guest kernel on a vCPU (its drivers, {@link VirtioNetDriver}, {@link PassthroughNicDriver},
 * {@link VirtioBlkDriver}, mapping through {@link PseriesIommu}) with what runs its hypercalls: KVM's handlers
 * ({@link Kvm}) and, for a call KVM hands on, QEMU's vCPU thread ({@code kvm_cpu_exec}, accel/kvm/kvm-all.c), whose
 * {@code kvm_arch_handle_exit} (target/ppc/kvm.c) takes the BQL and runs {@code spapr_hypercall} for
 * {@code KVM_EXIT_PAPR_HCALL}.
 *
 * <p>What the vCPU may do next is every piece of guest work that could run now, each offered as a step, because
 * which one runs first depends on timing the guest does not control: an interrupt the device raised
 * ({@code vring_interrupt}, taken between any two steps, hardware interrupts being on in softirq and process
 * context alike); a scheduled NAPI's poll (softirq); the sender's {@code start_xmit} and the application reading
 * its socket (process context); the rest of the kernel allocating and freeing pages. Once a driver activity has
 * started (a poll, a transmit), it runs to its end before the vCPU starts another (a softirq is not preempted by
 * process context on its CPU, and {@code start_xmit} runs with bottom halves off), one hypercall a step.
 *
 * <p>A hypercall is in flight, and the vCPU waits, when it exits to QEMU while QEMU's main loop holds the BQL
 * ({@link #EXIT}), when its handler writes to vhost's fd (QEMU's UNMAP notifier, or design D4's link in KVM) while the
 * vhost worker holds a virtqueue mutex ({@link #DELIVER}: the write sleeps on the mutex), and in design D3b until QEMU
 * has acknowledged the ranges it cleared ({@link #RETURN}).
 */
final class VcpuActor implements Actor, tcesim.state.Snapshot {
    static final int CONTINUE = 0, OPEN = 1, RX_IRQ = 2, RX_POLL = 3, TX_IRQ = 4, TX_POLL = 5, XMIT = 6, APP_RECV = 7, KALLOC = 8, KFREE = 9,
            EXIT = 10, RETURN = 11, DELIVER = 12, RX_REVOKE = 13, PT_REFILL = 14, PT_REAP = 15, CLEAR_DDW = 16, REMOVE_DDW = 17, PT_REVOKE = 18,
            BLK_SUBMIT = 19, BLK_REAP = 20;
    /** Step kinds {@code HOSTILE + k}: the hostile guest makes call {@code k} of {@link HostileHcall}. */
    static final int HOSTILE = 21;
    /** A frame's bytes read as big-endian longs (as {@code ByteBuffer.getLong} does), without a buffer per word. */
    private static final java.lang.invoke.VarHandle BE_LONG = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);
    private static final HostileHcall[] HOSTILE_CALLS = HostileHcall.values();
    /** The guest page the hostile calls' TCEs point to: guest RAM the kernel keeps (inside the reserved first MiB). */
    static final long HOSTILE_PAGE = 0x10000;
    private static final String[] NAMES = {"hcall", "virtnet-open", "rx-interrupt", "rx-napi-poll", "tx-interrupt", "tx-napi-poll", "start-xmit",
            "app-recv", "kernel-alloc", "kernel-free", "exit-to-qemu", "hcall-return", "vhost-write", "rx-revoke", "pt-refill", "pt-reap",
            "clear-ddw", "remove-ddw", "pt-revoke", "blk-submit", "blk-reap"};
    private boolean hostileDone;
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
    /** The guest's other work (the passthrough NIC, the disk, the kernel's pages) runs on vCPU 0. */
    private final boolean cpu0;
    private DriverWork pending;
    /** A hypercall that exited to QEMU and waits for the BQL. */
    private HcallRegs blocked;
    private HcallRegs blockedIn;
    /** A hypercall done in KVM (D3b) or in QEMU whose return waits: for QEMU's acknowledgement, or for vhost's mutex. */
    private HcallRegs waiting;
    private HcallRegs waitingIn;
    private HcallPath waitingPath;
    private long waitAck;
    /** Messages the hypercall wrote to vhost's fd that wait for its mutex, in order (frames), with the hypercall held. */
    private final List<byte[]> vhostWrites = new ArrayList<>();
    /** Linux's remove_ddw has cleared the 64-bit window and is about to call ibm,remove-pe-dma-window. */
    private boolean ddwCleared;
    /** The registers of the hypercall being issued, before the call (kept only when the call is parked). */
    private final HcallRegs callIn = new HcallRegs();
    /** For latencies: when the packet being reaped arrived. */
    private double reapArrival;
    /** The used elements of each virtio-net queue the guest had consumed when the cost clocks last looked (not state: clocks only). */
    private int rxUsedSeen, txUsedSeen;

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
        this.cpu0 = cpu == 0;
        this.rxUsedSeen = driver.rx().lastUsedIdx();
        this.txUsedSeen = driver.tx().lastUsedIdx();
    }

    /** The name of vCPU {@code cpu}, in the trace and the step list. */
    static String name(int cpu) { return "vcpu" + cpu; }

    int cpu() { return cpu; }

    @Override public String name() { return name; }
    @Override public String stepName(int kind) {
        return kind >= HOSTILE ? "hostile-" + HOSTILE_CALLS[kind - HOSTILE].name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') : NAMES[kind];
    }

    @Override
    public void enabledSteps(StepList out) {
        if (blocked != null) {
            if (!qemuLoop.holdsBql()) out.add(this, EXIT);
            return;
        }
        if (!vhostWrites.isEmpty()) {
            if (stack.vhost().acceptsIotlbMsg()) out.add(this, DELIVER);
            return;
        }
        if (waiting != null) {
            if (eventfd.acked() >= waitAck) out.add(this, RETURN);
            return;
        }
        // Hardware interrupts are taken between any two steps.
        if (cpu == driver.rxCpu() && driver.rxInterruptPending()) out.add(this, RX_IRQ);
        if (cpu == driver.txCpu() && driver.txInterruptPending()) out.add(this, TX_IRQ);
        if (pending != null) {
            out.add(this, CONTINUE);
            return;
        }
        if (driver.canOpen(cpu)) {
            out.add(this, OPEN);
            return;
        }
        if (driver.canPollRx(cpu)) out.add(this, RX_POLL);
        if (driver.canPollTx(cpu)) out.add(this, TX_POLL);
        if (driver.canXmit(cpu)) out.add(this, XMIT);
        if (cpu == driver.rxCpu() && driver.canAppRecv()) out.add(this, APP_RECV);
        if (revokeDue() && driver.canRevokeRx(cpu)) out.add(this, RX_REVOKE);
        if (cpu0 && ptRevokeDue() && ptDriver.canRevoke()) out.add(this, PT_REVOKE);
        if (cpu0 && ddwRemovalDue()) {
            boolean clearFirst = cfg.ddwRemoval() == StackConfig.DdwRemoval.LINUX && !ddwCleared;
            // The RTAS call is handled by QEMU under the BQL.
            if (clearFirst) out.add(this, CLEAR_DDW);
            else if (!qemuLoop.holdsBql()) out.add(this, REMOVE_DDW);
        }
        if (cpu0 && ptDriver != null && ptDriver.canReap()) out.add(this, PT_REAP);
        if (cpu0 && ptDriver != null && ptDriver.canRefill()) out.add(this, PT_REFILL);
        // The disk's requests are submitted and completed on vCPU 0 (where its interrupt lands).
        if (cpu0 && blkDriver != null && blkDriver.canReap()) out.add(this, BLK_REAP);
        if (cpu0 && blkDriver != null && blkDriver.canSubmit() && diskDue()) out.add(this, BLK_SUBMIT);
        if (cpu0 && cfg.hostileGuest() && !hostileDone && pending == null) {
            for (int k = 0; k < HOSTILE_CALLS.length; k++) out.add(this, HOSTILE + k);
        }
        if (cpu0 && cfg.kernelChurn() && !stack.workloadDone()) {
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

    @Override
    public void step(int kind) {
        stack.lane(CostLedger.Lane.VCPU);
        stack.running(this);
        CostLedger ledger = stack.ledger();
        switch (kind) {
            case EXIT -> ledger.after(clocks.bqlFree);
            case RETURN -> ledger.after(clocks.acked);
            case DELIVER -> ledger.after(clocks.vhostFree);
            case RX_IRQ -> ledger.after(clocks.irq[0]);
            case TX_IRQ -> ledger.after(clocks.irq[1]);
            case PT_REAP -> {
                reapArrival = clocks.ptArrival.poll();
                ledger.after(clocks.ptUsed.poll());
            }
            case BLK_REAP -> ledger.after(clocks.blkUsed.poll());
            default -> { }
        }
        switch (kind) {
            case EXIT -> {
                HcallRegs r = blocked;
                blocked = null;
                kvm.completeExit(r);
                stack.chargeExit();
                if (!vhostWrites.isEmpty()) {
                    hold(r, blockedIn, HcallPath.QEMU, 0);
                    return;
                }
                stack.traceHcall(name, blockedIn, r, HcallPath.QEMU);
                endHcall(r);
            }
            case DELIVER -> {
                for (byte[] f : vhostWrites) stack.deliverToVhost(f);
                vhostWrites.clear();
                if (waitAck == 0 || eventfd.acked() >= waitAck) returnWaiting();
            }
            case CONTINUE -> issue();
            case RETURN -> returnWaiting();
            case RX_IRQ -> {
                driver.rxInterrupt();
                ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.INTERRUPT, 1);
                if (trace.enabled()) trace.emit(name, "rx-interrupt", Event.NONE, Event.NONE, "RX interrupt: " + (driver.napiScheduled() ? "NAPI scheduled" : "nothing used"));
            }
            case TX_IRQ -> {
                driver.txInterrupt();
                ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.INTERRUPT, 1);
                if (trace.enabled()) trace.emit(name, "tx-interrupt", Event.NONE, Event.NONE, "TX interrupt: " + (driver.txNapiScheduled() ? "TX NAPI scheduled" : "nothing used"));
            }
            case OPEN -> start(driver.open(cpu));
            case RX_POLL -> start(driver.pollRx(cpu));
            case TX_POLL -> start(driver.pollTx(cpu));
            case XMIT -> {
                clocks.txStarted.add(ledger.now());
                start(driver.xmit(cpu));
            }
            case APP_RECV -> {
                driver.appRecv(cpu);
                if (trace.enabled()) trace.emit(name, "app-recv", Event.NONE, Event.NONE, "the application reads a packet: its buffer's page reference goes");
            }
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
            case BLK_SUBMIT -> start(blkDriver.submit(cpu));
            case BLK_REAP -> start(blkDriver.reap(cpu));
            case KALLOC -> {
                driver.kernelAlloc(cpu);
                trace.emit(name, "kernel-alloc", Event.NONE, Event.NONE, "a kernel object takes a page");
            }
            case KFREE -> driver.kernelFree(cpu);
            default -> {
                if (kind < HOSTILE || kind >= HOSTILE + HOSTILE_CALLS.length) throw new IllegalArgumentException("step " + kind);
                hostileDone = true;
                start(DriverWork.kernel(DriverWork.Kind.HOSTILE,
                        driver.iommu().hostile(HOSTILE_CALLS[kind - HOSTILE], cpu, 0, cfg.windowBytes() >>> 12, cfg.ramBytes(), HOSTILE_PAGE)));
            }
        }
        consumedUsed(ledger);
    }

    /**
     * The cost clocks of the used elements this step took from the virtio-net rings: the guest cannot have taken one
     * before the device published it; a received packet's latency ends here.
     */
    private void consumedUsed(CostLedger ledger) {
        for (int n = (driver.rx().lastUsedIdx() - rxUsedSeen) & 0xffff; n > 0; n--) {
            ledger.after(clocks.rxUsed.poll());
            clocks.rxLatency.add(ledger.now() - clocks.rxUsedArrival.poll());
        }
        for (int n = (driver.tx().lastUsedIdx() - txUsedSeen) & 0xffff; n > 0; n--) ledger.after(clocks.txUsed.poll());
        rxUsedSeen = driver.rx().lastUsedIdx();
        txUsedSeen = driver.tx().lastUsedIdx();
    }

    /** A message the running hypercall writes to vhost's fd while the worker holds a virtqueue mutex: it waits, and so does the call. */
    void deferVhostWrite(byte[] frame) {
        vhostWrites.add(frame.clone());
    }

    /** Starts a driver activity and makes its first hypercall in the same step (none when the activity needed none). */
    private void start(DriverWork p) {
        pending = p;
        while (pending != null && pending.op().done()) finishPending();
        if (pending != null) issue();
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
        boolean ack = path != HcallPath.QEMU && eventfd != null && eventfd.synchronous() && eventfd.queued() > eventfd.acked();
        if (ack || !vhostWrites.isEmpty()) {
            hold(r, in, path, ack ? eventfd.queued() : 0);
            return;
        }
        stack.traceHcall(name, in, r, path);
        endHcall(r);
    }

    /** The hypercall {@code r} is done in KVM or QEMU but does not return yet: vhost's mutex, or QEMU's acknowledgement up to {@code ack}. */
    private void hold(HcallRegs r, HcallRegs in, HcallPath path, long ack) {
        waiting = r;
        waitingIn = in.copy();
        waitingPath = path;
        waitAck = ack;
        if (!trace.enabled()) return;
        if (!vhostWrites.isEmpty()) trace.emit(name, "wait-vhost", in.r5, Event.NONE, in.describeCall() + ": its write to vhost's fd waits for the virtqueue mutex");
        else trace.emit(name, "wait-ack", in.r5, Event.NONE, in.describeCall() + " done in KVM; waits for QEMU to acknowledge the INVALIDATE");
    }

    private void returnWaiting() {
        HcallRegs r = waiting;
        waiting = null;
        waitAck = 0;
        stack.traceHcall(name, waitingIn, r, waitingPath);
        endHcall(r);
    }

    /** The driver work in progress, and a hypercall parked at the BQL, at vhost's mutex or waiting for QEMU's acknowledgement. */
    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(ddwCleared);
        out.put(hostileDone);
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
        out.put(vhostWrites.size());
        for (byte[] f : vhostWrites) for (int i = 0; i < f.length; i += 8) out.put((long) BE_LONG.get(f, i));
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        ddwCleared = in.nextBool();
        hostileDone = in.nextBool();
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
        vhostWrites.clear();
        for (int n = in.nextInt(); n > 0; n--) {
            byte[] f = new byte[tcesim.vhost.VhostMsgCodec.FRAME_SIZE];
            for (int i = 0; i < f.length; i += 8) BE_LONG.set(f, i, in.next());
            vhostWrites.add(f);
        }
        // A call parked at the BQL still has QEMU to read its TCE list: write it again, as it was.
        if (blocked != null) pending.op().rewriteList();
    }

    /** The cost clocks start afresh (a restored state): what the guest consumed so far is not timed. */
    void clearClocks() {
        rxUsedSeen = driver.rx().lastUsedIdx();
        txUsedSeen = driver.tx().lastUsedIdx();
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
        while (pending != null && pending.op().done()) finishPending();
    }

    /** The operation is over: its driver finishes it and says what comes next in the same activity (made in the next step). */
    private void finishPending() {
        CostLedger ledger = stack.ledger();
        DriverWork p = pending;
        pending = null;
        int blkAvail = blkDriver == null ? 0 : blkDriver.ring().availCount();
        DriverWork follow = null;
        if (p.owner() != null) {
            p.owner().finish(p, cpu);
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
                if (posted) clocks.txPosted.add(ledger.now());
            }
            case PT_REFILL -> {
                if (posted) clocks.ptPosted.add(ledger.now());
            }
            case PT_REAP -> clocks.rxLatency.add(ledger.now() - reapArrival);
            default -> { }
        }
        if (trace.enabled()) trace.emit(name, p.kind().name().toLowerCase().replace('_', '-'), p.op().dmaAddr(), p.buffer().gpa(),
                String.format("%s 0x%x at iova 0x%x", p.kind().done(), p.buffer().gpa(), p.op().dmaAddr()));
        pending = follow;
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
