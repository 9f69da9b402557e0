package tcesim.sim;

import java.util.ArrayList;
import java.util.List;
import tcesim.guest.DmaDirection;
import tcesim.guest.DmaOp;
import tcesim.guest.FirmwareFeatures;
import tcesim.guest.IommuTableAllocator;
import tcesim.guest.PageAllocator;
import tcesim.guest.PassthroughNicDriver;
import tcesim.guest.PseriesIommu;
import tcesim.guest.Symptom;
import tcesim.guest.VirtioBlkDriver;
import tcesim.guest.VirtioNetDriver;
import tcesim.kvm.HcallPath;
import tcesim.kvm.IotlbEventfd;
import tcesim.kvm.Kvm;
import tcesim.kvm.KvmPolicy;
import tcesim.kvm.VhostIotlbLink;
import tcesim.mem.GuestMemory;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.qemu.QemuPolicy;
import tcesim.qemu.Spapr;
import tcesim.qemu.SpaprTceTable;
import tcesim.qemu.VfioListener;
import tcesim.qemu.VhostIommu;
import tcesim.qemu.VirtioBlk;
import tcesim.vhost.IotlbMsg;
import tcesim.vhost.VhostDevice;
import tcesim.vhost.VhostMsgCodec;
import tcesim.vhost.VhostNet;
import tcesim.vfio.HwTceTable;
import tcesim.vfio.PassthroughDevice;
import tcesim.vfio.PhbTceCache;
import tcesim.vfio.VfioSpaprTce;
import tcesim.virtio.Vring;

/**
 * The whole modelled system, wired as the real one is, with its threads as {@link Actor}s, each in its own class:
 * <ul>
 * <li>{@code vcpuN} ({@link VcpuActor}): the guest kernel on a vCPU; one step is one hypercall (through KVM's handler chain
 *     and, when KVM hands it on, QEMU's, which needs the BQL), or the guest-internal work around it;
 * <li>{@code vhost} ({@link VhostWorker}): the vhost-net worker; one step is one packet of a handler run, under the
 *     virtqueue mutex it holds from the run's first step to its last (a write to vhost's fd waits for it);
 * <li>{@code qemu} ({@link QemuMainLoop}): QEMU's main loop serving vhost's fd under the BQL: reading and translating a MISS is
 *     one step, writing the UPDATE the next (in-kernel hypercalls do not take the BQL and can run between);
 * <li>{@code net} ({@link Network}): the network feeding the tap device;
 * <li>{@code vfio-dev} ({@link PassthroughDma}): with a passthrough NIC, its DMA engine writing packets through the PHB's TCE cache
 *     and the hardware table, which KVM (or QEMU's VFIO listener) keeps in step with the guest's;
 * <li>{@code qemu-blk} ({@link DiskIo}): with a virtio-blk disk, QEMU's thread serving it (an iothread): popping a request, whose
 *     buffers it translates through the window's IOMMU region, is one step, completing its I/O the next.
 * </ul>
 * Components are connected only through the real interfaces: hypercalls (guest to KVM), the
 * userspace exit (KVM to QEMU), the shared table mapping, IOMMU notifiers (QEMU), 72-byte frames on the
 * vhost fd, the virtqueues in guest memory, and the tap.
 *
 * <p>The stack builds the components and then the threads, which take what they use from it (the accessors below);
 * it keeps what several threads share: the hypercall accounting, the cost lane of the running step, the
 * {@link Clocks}, and the saved state's parts in their order.
 */
public final class Stack implements Model {
    public static final long LIOBN = Spapr.pciLiobn(0, 0);
    public static final long DDW_LIOBN = Spapr.pciLiobn(0, 1);
    /** Guest memory below this is the kernel image: never handed out by the page allocator. */
    static final long RESERVED_BYTES = 1 << 20;
    /** The vCPU the guest boots on. */
    private static final String BOOT_VCPU = VcpuActor.name(0);

    private final StackConfig cfg;
    private final Trace trace;
    private final CostModel costModel;
    private CostLedger ledger;
    /** The lane of the actor whose step is running, for costs charged from shared code. */
    private CostLedger.Lane lane = CostLedger.Lane.VCPU;
    private long killsCharged;
    private final Stats stats = new Stats();
    private final GuestMemory mem;
    private final Kvm kvm;
    private final Spapr spapr;
    private final PageAllocator pages;
    private final VirtioNetDriver driver;
    private final VhostDevice vhost;
    private final VhostIommu glue;
    private final VhostNet net;
    private final Oracles oracles;
    private final List<Actor> actors = new ArrayList<>();
    /** The same actors, and the vCPUs among them, as arrays for the loops of every step. */
    private final Actor[] actorArray;
    private final VcpuActor[] vcpuArray;
    /** The components of the saved state. */
    private final tcesim.state.Parts parts;
    private final FirmwareFeatures fw;
    /**
     * Whether packet bytes are moved and checked. They feed only the symptom reports (what the guest and the wire
     * would see): every oracle judges addresses, so runs without a trace (the checker, campaigns) leave them out.
     */
    private final boolean data;

    // Designs D3a/D3b: the eventfd KVM signals; null otherwise.
    private final IotlbEventfd eventfd;

    // The passthrough NIC, when configured.
    private final VfioSpaprTce vfio;
    private final PassthroughDevice ptDevice;
    private final PassthroughNicDriver ptDriver;
    private final PassthroughDma ptDma;
    /** The other threads, each also in {@link #actors} (in this order, after the vCPUs): typed, for the calls of every step. */
    private final VhostWorker vhostWorker;
    private final QemuMainLoop qemuLoop;
    private final Network network;
    private final DiskIo diskIo;

    // The virtio-blk disk, when configured: the guest's driver, QEMU's device and its thread.
    private final VirtioBlkDriver blkDriver;
    private final VirtioBlk blk;
    /** The disk's queue size: QEMU's virtio-blk {@code queue-size} default of 2019 (128; 256 since QEMU 5.0). */
    static final int BLK_QUEUE_SIZE = 128;

    /** What the wire and the disk got wrong: TX packets and written blocks that do not carry the bytes the guest sent. */
    private final List<Symptom> wireSymptoms = new ArrayList<>();

    /** When what passes between the threads was produced, for the cost model's clocks. */
    private final Clocks clocks = new Clocks();

    public Stack(StackConfig cfg, Trace trace) {
        this(cfg, trace, CostModel.defaults());
    }

    public Stack(StackConfig cfg, Trace trace, CostModel costs) {
        String err = cfg.validate();
        if (err != null) throw new IllegalArgumentException(err);
        this.cfg = cfg;
        this.trace = trace;
        this.costModel = costs;
        this.ledger = new CostLedger(costs);
        this.data = trace.enabled();
        this.mem = new GuestMemory(cfg.ramBytes());
        this.oracles = new Oracles(this);
        KvmPolicy kvmPolicy = cfg.design().kvmPolicy();
        if (cfg.faults().has(StackConfig.Fault.KVM_IOBA_BOUND_ONE_PAST)) kvmPolicy = kvmPolicy.planting(KvmPolicy.Planted.IOBA_BOUND_ONE_PAST);
        QemuPolicy qemuPolicy = cfg.design().qemuPolicy();
        if (cfg.faults().has(StackConfig.Fault.QEMU_INDEX_BOUND_ONE_PAST)) qemuPolicy = qemuPolicy.planting(QemuPolicy.Planted.INDEX_BOUND_ONE_PAST);
        this.kvm = new Kvm(cfg.host(), mem, kvmPolicy, oracles);
        this.spapr = new Spapr(kvm, mem, qemuPolicy, oracles);
        this.fw = new FirmwareFeatures(cfg.fw().putTceIndirect() && spapr.advertisesMultiTce(),
                cfg.fw().stuffTce() && spapr.advertisesMultiTce(), cfg.fw().ddw(), cfg.fw().clearOnUnmap());

        // Firmware: the default window of the PHB (bus 0, 4 KiB TCEs), then the machine reset that zeroes it.
        spapr.createTable(LIOBN, 12, 0, cfg.windowBytes() >>> 12);
        spapr.machineReset();

        // A NIC passed through with VFIO on the same PHB: QEMU's VFIO listener on the window (which sets
        // need_vfio) and, with the table in KVM, the group attached to it (KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE).
        if (cfg.passthroughPackets() > 0) {
            SpaprTceTable w = spapr.table(LIOBN);
            HwTceTable hw = HwTceTable.matching(w.table());
            PhbTceCache cache = new PhbTceCache();
            vfio = new VfioSpaprTce(hw, cache, mem, cfg.faults().has(StackConfig.Fault.SKIP_TCE_KILL));
            spapr.registerNotifier(LIOBN, new VfioListener(vfio, w), false);
            if (spapr.table(LIOBN).inKernel()) kvm.table(LIOBN).attach(vfio);
            ptDevice = new PassthroughDevice(cache, hw, mem);
        } else {
            vfio = null;
            ptDevice = null;
        }

        // Guest boot: page allocator, per-CPU TCE list pages, the window's IOVA allocator.
        int pageShift = Integer.numberOfTrailingZeros(cfg.guestPageKib() << 10);
        long reserved = RESERVED_BYTES >>> pageShift;
        pages = new PageAllocator(reserved, (int) ((cfg.ramBytes() >>> pageShift) - reserved), pageShift, cfg.vcpus());
        long[] listPages = new long[cfg.vcpus()];
        for (int i = 0; i < listPages.length; i++) listPages[i] = pages.gpa(pages.alloc());
        IommuTableAllocator alloc = new IommuTableAllocator(0, cfg.windowBytes() >>> 12, 12);
        // The guest's hypercalls at boot are made on vCPU 0 and run to completion, before any thread runs.
        PseriesIommu iommu = new PseriesIommu(regs -> hcall(BOOT_VCPU, regs), mem, LIOBN, alloc, fw, listPages);

        // virtio-net rings: one page each, mapped once (coherent) at driver start.
        Vring rx = new Vring(cfg.ringSize(), mapRing(iommu));
        Vring tx = new Vring(cfg.ringSize(), mapRing(iommu));
        driver = new VirtioNetDriver(mem, pages, iommu, rx, tx, new VirtioNetDriver.Config(cfg.rxBuffers(), cfg.packetBytes(), cfg.txPackets(), 0,
                cfg.vcpus() - 1, cfg.requestResponse(), cfg.faults().has(StackConfig.Fault.MAP_PAST_WINDOW_END), cfg.rxPackets() + cfg.txPackets() > 0), this::guestKick, data);
        ptDriver = ptDevice == null ? null
                : new PassthroughNicDriver(mem, pages, iommu, new Vring(cfg.ringSize(), mapRing(iommu)), 4096, cfg.passthroughPackets(), data);
        // virtio-blk: its ring mapped at driver start; QEMU serves it itself, translating through the window (no notifier).
        if (cfg.diskRequests() > 0) {
            blkDriver = new VirtioBlkDriver(mem, pages, iommu, new Vring(BLK_QUEUE_SIZE, mapRing(iommu)), cfg.diskRequests(), data);
            blk = new VirtioBlk(spapr, mem, blkDriver.ring(), new DiskIo.Accesses(oracles, trace), new DiskIo.DiskImage(wireSymptoms), data);
        } else {
            blkDriver = null;
            blk = null;
        }

        // vhost device start as QEMU does it (vhost_dev_start): features (fresh IOTLB), notifier, rings, used-ring pre-load.
        vhost = new VhostDevice(2, vhostConfig(cfg), cfg.design().mechanisms().vhost().fixes(), w -> clocks.workAt[w] = ledger.now());
        vhost.setBackendFeatures(VhostDevice.VHOST_NET_BACKEND_FEATURES);
        vhost.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
        glue = new VhostIommu(new WaitingFd(), spapr, mem, VhostMsgCodec.VHOST_IOTLB_MSG_V2, cfg.qemu(),
                new VhostIommu.Planted(cfg.faults().has(StackConfig.Fault.DROP_INVALIDATE), cfg.faults().has(StackConfig.Fault.ZERO_SIZE_UPDATE)),
                cfg.design().mechanisms().answer().glue());
        glue.setListener(new GlueTrace());
        glue.regionAdd(LIOBN);
        eventfd = newEventfd();
        linkKvm(LIOBN);
        if (fw.ddw()) enableDdw(iommu);
        glue.preload(rx.ringIova());
        glue.preload(tx.ringIova());
        network = new Network(this);
        net = new VhostNet(vhost, rx, tx, new VhostWorker.UserMem(mem, data), network.tap(), oracles, this::deviceInterrupt, cfg.packetBytes(),
                cfg.faults().has(StackConfig.Fault.SKIP_VQ_LOCK));
        net.setBackend();

        // The threads, once every component they use exists (the network is made above: vhost-net takes its tap), listed
        // in step order: the vCPUs, vhost, QEMU's main loop, the network, the passthrough NIC, the disk.
        vhostWorker = new VhostWorker(this);
        qemuLoop = new QemuMainLoop(this);
        vcpuArray = new VcpuActor[cfg.vcpus()];
        for (int i = 0; i < vcpuArray.length; i++) {
            vcpuArray[i] = new VcpuActor(this, i);
            actors.add(vcpuArray[i]);
        }
        actors.add(vhostWorker);
        actors.add(qemuLoop);
        actors.add(network);
        ptDma = ptDevice == null ? null : new PassthroughDma(this);
        if (ptDma != null) actors.add(ptDma);
        diskIo = blk == null ? null : new DiskIo(this);
        if (diskIo != null) actors.add(diskIo);
        actorArray = actors.toArray(new Actor[0]);
        parts = parts();
        // Boot is not part of the workload's cost.
        ledger = new CostLedger(costModel);
        killsCharged = vfio == null ? 0 : vfio.kills();
        trace.emit("qemu", "start", Event.NONE, Event.NONE, String.format("window 0x%x in %s; vhost IOTLB max %d; guest %s%s%s",
                LIOBN, spapr.table(LIOBN).inKernel() ? "KVM" : "QEMU", cfg.maxIotlbEntries(),
                fw.stuffTce() ? "STUFF_TCE " : "", fw.putTceIndirect() ? "PUT_TCE_IND " : "", fw.ddw() ? "DDW" : "no-DDW")
                        + (fw.clearOnUnmap() ? "" : " (never clears TCEs)"));
    }

    /**
     * The design's connection from KVM's handlers to vhost, set up by QEMU once vhost runs and only when the
     * table is in KVM: the D4 link (KVM invalidates vhost's IOTLB itself) or the D3 eventfd.
     */
    private IotlbEventfd newEventfd() {
        Design.Link link = cfg.design().link();
        boolean eventfd = link == Design.Link.EVENTFD_ASYNC || link == Design.Link.EVENTFD_SYNC;
        return eventfd ? new IotlbEventfd(link == Design.Link.EVENTFD_SYNC) : null;
    }

    /**
     * The design's connection from KVM's handlers to vhost for window {@code liobn}, set up by QEMU with vhost's notifier
     * on the window's IOMMU region, when the table is in KVM: the D4 link (KVM invalidates vhost's IOTLB itself) or the
     * window's feed into the D3 eventfd.
     */
    private void linkKvm(long liobn) {
        Design.Link link = cfg.design().link();
        if (link == Design.Link.NONE || !spapr.table(liobn).inKernel()) return;
        int shift = spapr.table(liobn).pageShift();
        if (link.vhostLink()) {
            VhostIotlbLink.Range range = link == Design.Link.VHOST_LINK ? VhostIotlbLink.Range.WRITTEN : VhostIotlbLink.Range.TCE_KILL;
            kvm.table(liobn).attach(new VhostIotlbLink(shift, range, (iova, size) -> {
                long rc = writeToVhost(VhostMsgCodec.encode(VhostMsgCodec.VHOST_IOTLB_MSG_V2, 0, IotlbMsg.invalidate(iova, size)));
                stats.invalidates++;
                ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.INVALIDATE, 1);
                if (trace.enabled()) trace.emit("kvm", "invalidate", iova, Event.NONE, String.format("KVM invalidates vhost's IOTLB for iova 0x%x size 0x%x (rc %d)", iova, size, rc));
            }));
        } else {
            kvm.table(liobn).attach(eventfd.forWindow(shift));
        }
    }

    private long mapRing(PseriesIommu iommu) {
        long pfn = pages.alloc();
        DmaOp op = iommu.map(0, pages.gpa(pfn), GuestMemory.PAGE_SIZE, DmaDirection.BIDIRECTIONAL);
        op.runToEnd();
        return op.dmaAddr();
    }

    /** vhost's IOTLB code as the host kernel's era has it. */
    private static VhostDevice.Config vhostConfig(StackConfig cfg) {
        return switch (cfg.host().kernel()) {
            case K2019 -> VhostDevice.Config.v2019(cfg.maxIotlbEntries());
            case K2022 -> VhostDevice.Config.v2022(cfg.maxIotlbEntries());
            case CURRENT -> VhostDevice.Config.current(cfg.maxIotlbEntries());
        };
    }

    /** The guest kicks virtqueue {@code vq}: its write to the notify register reaches vhost's kick eventfd through KVM's ioeventfd. */
    private void guestKick(int vq) {
        ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.KICK, 1);
        net.kick(vq);
        if (trace.enabled()) trace.emit(running == null ? BOOT_VCPU : running.name(), "kick", Event.NONE, Event.NONE, "kicks the " + (vq == 0 ? "RX" : "TX") + " queue");
    }

    /** vhost interrupts the guest for virtqueue {@code vq} (its call eventfd, KVM's irqfd). */
    private void deviceInterrupt(int vq) {
        driver.raiseInterrupt(vq);
        clocks.irqRaised[vq] = true;
        if (trace.enabled()) trace.emit("vhost", "interrupt", Event.NONE, Event.NONE, "interrupts the guest for the " + (vq == 0 ? "RX" : "TX") + " queue");
    }

    /** The vCPU whose step is running (whose hypercall a write to vhost's fd belongs to), or null. */
    private VcpuActor running;

    void running(VcpuActor v) { running = v; }

    /**
     * A frame written to vhost's fd from inside a hypercall: processed now, or, while the worker holds a virtqueue mutex,
     * held until the hypercall's vCPU gets the mutex (the write sleeps; the call does not return before). Returns what
     * write() returns, or will.
     */
    private long writeToVhost(byte[] frame) {
        if (vhost.acceptsIotlbMsg() || running == null) return vhost.writeFrame(frame);
        running.deferVhostWrite(frame);
        return VhostMsgCodec.FRAME_SIZE;
    }

    /** A write that waited for vhost's mutex goes through (see {@link #writeToVhost}). */
    void deliverToVhost(byte[] frame) {
        long rc = vhost.writeFrame(frame);
        if (trace.enabled()) {
            tcesim.vhost.IotlbMsg m = ((VhostMsgCodec.DecodeResult.Ok) VhostMsgCodec.decode(frame)).msg();
            trace.emit(running.name(), "vhost-write", m.iova(), Event.NONE, String.format("its INVALIDATE iova 0x%x size 0x%x gets vhost's mutex (rc %d)", m.iova(), m.size(), rc));
        }
    }

    /** vhost's fd as QEMU's glue writes it: a write from a vCPU's hypercall waits for the virtqueue mutex (see {@link #writeToVhost}). */
    private final class WaitingFd implements tcesim.vhost.VhostFd {
        @Override public long read(byte[] dst) { return vhost.read(dst); }
        @Override public long writeFrame(byte[] frame) { return writeToVhost(frame); }
        @Override public boolean readable() { return vhost.readable(); }
    }

    /** The 64-bit window's page shift: 64 KiB TCEs. */
    static final int DDW_SHIFT = 16;

    /** The guest asks for a 64-bit window with 64 KiB pages covering all RAM and maps RAM into it once. */
    private void enableDdw(PseriesIommu iommu) {
        int shift = DDW_SHIFT;
        long entries = cfg.ramBytes() >>> shift;
        createDdw();
        long list = pages.gpa(pages.alloc());
        for (long done = 0; done < entries; done += Hcall.MAX_INDIRECT_TCES) {
            int n = (int) Math.min(Hcall.MAX_INDIRECT_TCES, entries - done);
            for (int i = 0; i < n; i++) mem.writeLongBE(list + 8L * i, ((done + i) << shift) | Tce.READ | Tce.WRITE);
            HcallRegs r = new HcallRegs().set(Hcall.H_PUT_TCE_INDIRECT, DDW_LIOBN, Spapr.DDW_BUS_OFFSET + (done << shift), list, n);
            hcall(BOOT_VCPU, r);
        }
        pages.free(pages.pageOf(list));
        iommu.useDirectWindow(Spapr.DDW_BUS_OFFSET);
    }

    /** {@code ibm,create-pe-dma-window}: QEMU creates the 64-bit window and vhost's glue listens on its IOMMU region. */
    private void createDdw() {
        spapr.createTable(DDW_LIOBN, DDW_SHIFT, Spapr.DDW_BUS_OFFSET, cfg.ramBytes() >>> DDW_SHIFT);
        glue.regionAdd(DDW_LIOBN);
        linkKvm(DDW_LIOBN);
    }

    /**
     * {@code ibm,remove-pe-dma-window}: QEMU deletes the window's IOMMU region ({@code vhost_iommu_region_del}
     * unregisters the notifier and sends nothing) and the table.
     */
    void removeDdw() {
        glue.regionDel(DDW_LIOBN);
        spapr.removeTable(DDW_LIOBN);
    }

    // ---- accessors for oracles, reports and the threads ------------------------------------------

    public StackConfig config() { return cfg; }
    public Trace trace() { return trace; }
    /** What the run has cost so far (boot excluded). */
    public CostLedger ledger() { return ledger; }
    public Stats stats() { return stats; }
    public GuestMemory memory() { return mem; }
    public Spapr spapr() { return spapr; }
    public Kvm kvm() { return kvm; }
    public VirtioNetDriver driver() { return driver; }
    public VhostDevice vhost() { return vhost; }
    public VhostNet vhostNet() { return net; }
    public VhostIommu vhostIommu() { return glue; }
    public Oracles oracles() { return oracles; }
    public List<Actor> actors() { return java.util.Collections.unmodifiableList(actors); }
    public FirmwareFeatures guestFeatures() { return fw; }
    public List<Symptom> wireSymptoms() { return wireSymptoms; }
    public long rxInjected() { return network.rxInjected(); }
    /** The passthrough NIC's guest driver, or null. */
    public PassthroughNicDriver passthroughDriver() { return ptDriver; }
    /** The passthrough NIC's DMA engine, or null. */
    public PassthroughDevice passthroughDevice() { return ptDevice; }
    /** Designs D3a/D3b: the eventfd KVM signals cleared ranges on; else null. */
    public IotlbEventfd eventfd() { return eventfd; }
    /** The virtio-blk disk's guest driver, or null. */
    public VirtioBlkDriver blkDriver() { return blkDriver; }
    /** QEMU's virtio-blk device, or null. */
    public VirtioBlk blk() { return blk; }

    /** The VFIO group's attachment (hardware table, PHB cache, kills), or null. */
    public VfioSpaprTce vfio() { return vfio; }

    // ---- what the threads share, for their classes in this package ----------------------------------

    /** When what passes between the threads was produced. */
    Clocks clocks() { return clocks; }

    /** Whether packet bytes are moved and checked (only when the run is traced). */
    boolean data() { return data; }

    /** QEMU's main loop, whose BQL a hypercall exiting to QEMU waits for. */
    QemuMainLoop qemuLoop() { return qemuLoop; }

    /** The thread whose step is running charges its costs to {@code lane}; so do the hooks it runs in shared code. */
    void lane(CostLedger.Lane lane) { this.lane = lane; }

    /**
     * Everything that decides what can happen next and what the oracles will judge: the DMA windows (which
     * exist, where they live, their entries), what KVM has attached to the default window, the guest's allocators,
     * live mappings and drivers with their rings, vhost's IOTLB and message lists and the worker's own state,
     * QEMU's pending UPDATE and the BQL, the network, and each vCPU's hypercall in progress. Left out, because no
     * step or oracle reads them: packet bytes (they feed the symptom reports only), counters kept for reports,
     * costs and the trace. Two states that save the same words have the same futures, which is what the checker
     * relies on, and {@link #restore} makes this stack behave as the saved one would (a test replays both).
     */
    @Override
    public void save(tcesim.state.StateWriter out) { parts.save(out); }

    @Override
    public void restore(tcesim.state.StateReader in) {
        parts.restore(in);
        afterRestore();
    }

    /**
     * Restores a saved state, reading only the components whose words differ from those of the state this stack
     * was last saved or restored in; valid when nothing has run since that save or restore (the checker, putting
     * a state back after saving one of its successors).
     */
    @Override
    public void restoreChanged(tcesim.state.StateReader in) {
        parts.restoreChanged(in);
        afterRestore();
    }

    /** What a restored stack starts afresh with: no verdict yet, and no costs carried over. */
    private void afterRestore() {
        oracles.reset();
        clocks.clear();
        for (VcpuActor v : vcpuArray) v.clearClocks();
    }

    /** The saved state's components, in order (see {@link tcesim.state.Parts}); those not configured are left out. */
    private tcesim.state.Parts parts() {
        List<tcesim.state.Snapshot> p = new ArrayList<>();
        p.add(new Windows());
        if (eventfd != null) p.add(eventfd);
        if (vfio != null) {
            p.add(vfio);
            p.add(ptDevice);
            p.add(ptDriver);
            p.add(ptDma);
        }
        if (blk != null) {
            p.add(blkDriver);
            p.add(blk);
        }
        p.add(pages);
        p.add(driver.iommu());
        p.add(driver);
        p.add(vhost);
        p.add(net);
        p.add(new HostSide());
        p.addAll(List.of(vcpuArray));
        return new tcesim.state.Parts(p.toArray(new tcesim.state.Snapshot[0]));
    }

    /** The DMA windows: which exist, where they live, and their entries. */
    private final class Windows implements tcesim.state.Snapshot {
        @Override
        public void save(tcesim.state.StateWriter out) {
            for (long liobn : WINDOWS) {
                SpaprTceTable t = spapr.table(liobn);
                out.put(t == null ? -1 : (t.inKernel() ? 1 : 0) | (t.needVfio() ? 2 : 0));
                if (t != null) t.table().save(out);
            }
        }

        @Override
        public void restore(tcesim.state.StateReader in) {
            for (long liobn : WINDOWS) {
                long where = in.next();
                // The only window that comes and goes during a run is the DDW (a guest that removes it).
                if (liobn == DDW_LIOBN && (where >= 0) != (spapr.table(liobn) != null)) {
                    if (where >= 0) createDdw();
                    else removeDdw();
                }
                if (where >= 0) spapr.table(liobn).table().restore(in);
            }
        }
    }

    /** QEMU's BQL and pending UPDATE, the network's counters and the tap's backlog: the main loop's words, then the network's. */
    private final class HostSide implements tcesim.state.Snapshot {
        @Override
        public void save(tcesim.state.StateWriter out) {
            qemuLoop.save(out);
            network.save(out);
        }

        @Override
        public void restore(tcesim.state.StateReader in) {
            qemuLoop.restore(in);
            network.restore(in);
        }
    }

    private static final long[] WINDOWS = {LIOBN, DDW_LIOBN};

    /** Whether a hypercall that changes the entry of {@code iova} is under way: device accesses may still see the old entry. */
    boolean hypercallInFlight(long iova) {
        for (VcpuActor v : vcpuArray) if (v.inHypercallOver(iova)) return true;
        return false;
    }

    /** What the guest page holding {@code gpa} is used for now. */
    String pageState(long gpa) {
        long pfn = pages.pageOf(gpa);
        if (!pages.contains(pfn)) return "the kernel image";
        if (!pages.isAllocated(pfn)) return "free";
        return "in use as " + pages.use(pfn) + ", allocation #" + pages.generation(pfn);
    }

    /** Whether a virtio-net queue's last handler run ended with {@code exit} while packets are left for it. */
    private boolean stopped(VhostNet.Exit exit) {
        return net.lastExit(VhostNet.RX_VQ) == exit && driver.rxDelivered() + driver.rxDropped() < cfg.rxPackets()
                || net.lastExit(VhostNet.TX_VQ) == exit && driver.txCompleted() < cfg.txPackets();
    }

    /** All packets sent both ways have been delivered and every buffer returned. */
    public boolean workloadDone() {
        return network.rxInjected() == cfg.rxPackets() && network.tapEmpty() && driver.rxDelivered() + driver.rxDropped() == cfg.rxPackets()
                && driver.txCompleted() == cfg.txPackets() && (ptDriver == null || ptDriver.delivered() == cfg.passthroughPackets())
                && (blkDriver == null || blkDriver.completed() == cfg.diskRequests());
    }

    /**
     * Collects the enabled steps of every actor, in actor order. The rest of the guest kernel's page churn
     * runs only alongside packet work: when nothing else can run, it is left out, so that a stalled queue
     * ends the run (and is judged) instead of letting the churn spin forever.
     */
    @Override
    public void enabledSteps(StepList out) {
        out.clear();
        // Actor order, as in actors: the vCPUs, vhost, QEMU's main loop, the network, the passthrough NIC, the disk.
        for (VcpuActor v : vcpuArray) v.enabledSteps(out);
        vhostWorker.enabledSteps(out);
        qemuLoop.enabledSteps(out);
        network.enabledSteps(out);
        if (ptDma != null) ptDma.enabledSteps(out);
        if (diskIo != null) diskIo.enabledSteps(out);
        for (int i = 0; i < out.size(); i++) if (!isChurn(out, i)) return;
        out.clear();
    }

    private static boolean isChurn(StepList l, int i) {
        return l.actor(i) instanceof VcpuActor && (l.kind(i) == VcpuActor.KALLOC || l.kind(i) == VcpuActor.KFREE);
    }

    @Override
    public Violation violation() { return oracles.first(); }

    @Override
    public Violation violation(java.util.Set<Violation.Property> of) {
        if (oracles.first() == null) return null; // nothing reported yet, of any property
        Violation best = null;
        for (Violation.Property p : of) {
            Violation v = oracles.firstOf(p);
            if (v != null && (best == null || v.step() < best.step())) best = v;
        }
        return best;
    }

    @Override
    public boolean done() { return workloadDone(); }

    @Override
    public Violation stuck() {
        Violation v = checkProgress(trace.step());
        oracles.report(v);
        return v;
    }

    /*
     * No actor is declared independent of the others, so the checker's partial-order reduction has nothing to work with
     * here: the network's packet wakes vhost's armed socket poll, so its order against vhost's runs decides when handle_rx
     * runs, and every vCPU step can change what vhost or QEMU sees next.
     */

    /** A progress violation when nothing can run but work is left (a virtqueue stalled on a miss nobody answers). */
    Violation checkProgress(long step) {
        if (workloadDone()) return null;
        String why;
        if (ptDevice != null && ptDevice.frozen()) why = "the passthrough device is frozen (EEH) after a DMA fault";
        else if (blk != null && blk.broken() != null) why = "the virtio-blk device is broken (virtio_error: " + blk.broken() + ")";
        else if (stopped(VhostNet.Exit.ERROR)) why = "a virtqueue stopped on a translation error (errno " + net.lastErrno() + ") and nothing kicks it";
        else if (stopped(VhostNet.Exit.MISS) || stopped(VhostNet.Exit.PREFETCH_MISS)) why = "a virtqueue stopped on a MISS waits for an UPDATE that will never come";
        else why = "no thread can make progress: every queue waits for a kick or an interrupt nobody sends";
        return new Violation(Violation.Property.PROGRESS, step, "-", String.format("rx %d/%d delivered, tx %d/%d completed",
                driver.rxDelivered(), cfg.rxPackets(), driver.txCompleted(), cfg.txPackets())
                + (blkDriver == null ? "" : String.format(", disk %d/%d requests", blkDriver.completed(), cfg.diskRequests())), why, -1, -1);
    }

    // ---- hypercalls -----------------------------------------------------------------------------

    /** A hypercall from vCPU {@code vcpu} (its name) run to completion: boot time, before the vCPUs' threads run. */
    private void hcall(String vcpu, HcallRegs regs) {
        HcallRegs in = regs.copy();
        HcallPath path = kvm.hcallInKernel(regs);
        chargeInKernel(path == null ? HcallPath.QEMU : path);
        if (path == null) {
            path = kvm.completeExit(regs);
            chargeExit();
        }
        traceHcall(vcpu, in, regs, path);
    }

    /** The exit to QEMU and back, and the kills QEMU's handler issued (its VFIO listener). */
    void chargeExit() {
        ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.EXIT_QEMU, 1);
        chargeKills();
    }

    /** Charges the in-kernel part of a hypercall: the real-mode entry (when the host enters it), virtual mode unless real mode finished it, and the TCE kills it issued. */
    void chargeInKernel(HcallPath path) {
        if (cfg.host().enteredRealMode()) ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.HCALL_REAL, 1);
        if (path != HcallPath.REAL_MODE) ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.HCALL_VIRTUAL, 1);
        chargeKills();
    }

    private void chargeKills() {
        if (vfio == null) return;
        ledger.charge(CostLedger.Lane.VCPU, CostLedger.Kind.TCE_KILL, vfio.kills() - killsCharged);
        killsCharged = vfio.kills();
    }

    /** A hypercall of vCPU {@code vcpu} (its name) has returned to the guest by {@code path}: counted, and traced. Its costs have been charged. */
    void traceHcall(String vcpu, HcallRegs in, HcallRegs out, HcallPath path) {
        stats.hcall(in.r3, path);
        if (out.r3 != Hcall.H_SUCCESS) stats.hcallErrors++;
        if (!trace.enabled()) return;
        long gpa = in.r3 == Hcall.H_PUT_TCE && Tce.valid(in.r6) ? Tce.gpa(in.r6) : Event.NONE;
        trace.emit(vcpu, Hcall.opcodeName(in.r3), in.r5, gpa,
                in.describeCall() + " = " + Hcall.returnName(out.r3) + " [" + path.label() + "]");
    }

    /** Mean latencies of the run, in simulated ns (0 where nothing was measured). */
    public record Latency(double rx, double tx, double transaction) {}

    /**
     * RX: from the packet's arrival at the tap to the guest having reaped it; TX: from the guest starting to send a
     * packet to vhost having copied it to the tap; transaction (request/response only): from a request's arrival to
     * its response leaving.
     */
    public Latency latency() {
        return new Latency(clocks.rxLatency.mean(), clocks.txLatency.mean(), clocks.transaction.mean());
    }

    /** When step {@code kind} of {@code actor} could start: its actor's clock, or later when it consumes work another actor produces later. */
    double readyTime(Actor actor, int kind) {
        return Math.max(ledger.clock(indexOf(actor)), inputTime(actor, kind));
    }

    /** When what step {@code kind} of {@code actor} consumes was produced (0 for a step that consumes nothing timed). */
    double inputTime(Actor actor, int kind) {
        double dep = 0;
        if (actor instanceof VhostWorker) {
            dep = vhostWorker.inputTime();
        } else if (actor instanceof VcpuActor) {
            dep = switch (kind) {
                case VcpuActor.RX_IRQ -> clocks.irq[0];
                case VcpuActor.TX_IRQ -> clocks.irq[1];
                case VcpuActor.PT_REAP -> clocks.ptUsed.peek();
                case VcpuActor.BLK_REAP -> clocks.blkUsed.peek();
                case VcpuActor.EXIT -> clocks.bqlFree;
                case VcpuActor.RETURN -> clocks.acked;
                case VcpuActor.DELIVER -> clocks.vhostFree;
                default -> 0;
            };
        } else if (actor instanceof QemuMainLoop) {
            dep = kind == 0 ? clocks.misses.peek() : kind == 2 ? Math.max(clocks.signals.peek(), clocks.vhostFree) : clocks.vhostFree;
        } else if (actor instanceof Network) {
            dep = Math.max(clocks.wireFree, clocks.nextTapSlot());
            if (cfg.requestResponse()) dep = Math.max(dep, clocks.txOnWire);
        } else if (actor instanceof PassthroughDma) {
            dep = clocks.ptPosted.peek();
        } else if (actor instanceof DiskIo) {
            dep = kind == 0 ? clocks.blkPosted.peek() : 0;
        }
        return dep;
    }

    /** The actor's position in the step order (its clock in the ledger), or -1. */
    public int indexOf(Actor a) {
        for (int i = 0; i < actorArray.length; i++) if (actorArray[i] == a) return i;
        return -1;
    }

    // ---- QEMU's vhost glue, run from the vCPUs' hypercalls and QEMU's main loop -------------------

    /** Trace events of QEMU's vhost glue. */
    private final class GlueTrace implements VhostIommu.Listener {
        @Override
        public void invalidate(long iova, long size, long rc) {
            stats.invalidates++;
            ledger.charge(lane, CostLedger.Kind.INVALIDATE, 1);
            if (trace.enabled()) trace.emit("qemu", "invalidate", iova, Event.NONE, String.format("IOMMU UNMAP -> vhost INVALIDATE iova 0x%x size 0x%x (rc %d)", iova, size, rc));
        }

        @Override
        public void missRead(long iova, int perm) {
            if (trace.enabled()) trace.emit("qemu", "miss-read", iova, Event.NONE, String.format("read MISS iova 0x%x perm %d", iova, perm));
        }

        @Override
        public void translated(long iova, IotlbMsg u) {
            if (!trace.enabled()) return;
            if (u == null) trace.emit("qemu", "no-translation", iova, Event.NONE, String.format("iova 0x%x has no translation: nothing sent, the queue stays stalled", iova));
            else trace.emit("qemu", "translate", iova, mem.hvaToGpa(u.uaddr()), String.format("iova 0x%x -> gpa 0x%x (table now)", iova, mem.hvaToGpa(u.uaddr())));
        }

        @Override
        public void updateSent(IotlbMsg u, long rc) {
            if (trace.enabled()) trace.emit("qemu", "update", u.iova(), mem.hvaToGpa(u.uaddr()), String.format("vhost UPDATE iova 0x%x size 0x%x -> gpa 0x%x RW (rc %d)",
                    u.iova(), u.size(), mem.hvaToGpa(u.uaddr()), rc));
        }
    }
}
