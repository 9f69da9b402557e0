package tcesim.sim;

import java.util.List;
import tcesim.guest.Payload;
import tcesim.guest.Symptom;
import tcesim.guest.VirtioBlkDriver;
import tcesim.qemu.VirtioBlk;

/**
 * QEMU's thread serving the virtio-blk disk (an iothread, so no BQL): pops a request the guest posted and submits its
 * I/O, then completes it. Costs: the device's per-request work and a copy per byte it reads or writes.
 *
 * <p>Models the iothread of QEMU's virtio-blk dataplane ({@code iothread_run} polling its AioContext; the queue's host
 * notifier runs {@code virtio_blk_data_plane_handle_output}, hw/block/dataplane/virtio-blk.c, which calls
 * {@code virtio_blk_handle_vq}, hw/block/virtio-blk.c) and the request's completion ({@code virtio_blk_rw_complete},
 * {@code virtio_blk_req_complete}); the device itself is {@link VirtioBlk}.
 */
final class DiskIo implements Actor {
    private static final String[] NAMES = {"blk-request", "blk-complete"};

    private final Stack stack;
    private final VirtioBlk blk;
    private final Trace trace;
    private final Clocks clocks;

    /** The disk's thread of {@code stack}, made once its virtio-blk device exists. */
    DiskIo(Stack stack) {
        this.stack = stack;
        this.blk = stack.blk();
        this.trace = stack.trace();
        this.clocks = stack.clocks();
    }

    @Override public String name() { return "qemu-blk"; }
    @Override public String stepName(int kind) { return NAMES[kind]; }

    @Override
    public void enabledSteps(StepList out) {
        if (blk.canPop()) out.add(this, 0);
        if (blk.canComplete()) out.add(this, 1);
    }

    @Override
    public void step(int kind) {
        stack.lane(CostLedger.Lane.QEMU);
        CostLedger ledger = stack.ledger();
        if (kind == 0) {
            ledger.after(clocks.blkPosted.poll());
            ledger.charge(CostLedger.Lane.QEMU, CostLedger.Kind.BLK_REQUEST, 1);
            long read = blk.pop();
            if (read > 0) ledger.charge(CostLedger.Lane.QEMU, CostLedger.Kind.COPY, read);
            if (read < 0 && trace.enabled()) trace.emit("qemu-blk", "virtio-error", Event.NONE, Event.NONE, "virtio_error: " + blk.broken() + ": the device is broken");
        } else {
            int written = blk.complete();
            ledger.charge(CostLedger.Lane.QEMU, CostLedger.Kind.COPY, written);
            clocks.blkUsed.add(ledger.now());
        }
    }

    /** An access of QEMU's virtio-blk device to guest memory: judged by the oracles, and traced. */
    static final class Accesses implements VirtioBlk.Dma {
        private final Oracles oracles;
        private final Trace trace;

        Accesses(Oracles oracles, Trace trace) {
            this.oracles = oracles;
            this.trace = trace;
        }

        @Override
        public void access(String what, long iova, long len, long gpa, boolean write) {
            oracles.qemuDma("qemu-blk", what, iova, len, gpa, write);
            if (trace.enabled()) trace.emit("qemu-blk", write ? "blk-write" : "blk-read", iova, gpa, String.format("%s: iova 0x%x len %d = gpa 0x%x (%s)", what, iova, len,
                    gpa, what.startsWith("request") || what.startsWith("indirect") ? "translated now through the window's IOMMU region" : "mapped through it at pop"));
        }
    }

    /**
     * The disk image behind QEMU's virtio-blk: block {@code sector} holds the pattern of that sector (what the guest
     * expects to read there), and a write is checked to carry the block the guest wrote (a symptom otherwise).
     */
    static final class DiskImage implements VirtioBlk.Image {
        /** Where a write of the wrong block is reported: the stack's {@link Stack#wireSymptoms()}. */
        private final List<Symptom> symptoms;

        DiskImage(List<Symptom> symptoms) {
            this.symptoms = symptoms;
        }

        @Override
        public void read(long sector, byte[] buf, int len) {
            Payload.fill(buf, len, VirtioBlkDriver.STREAM, sector);
        }

        @Override
        public void write(long sector, byte[] buf, int len) {
            long seq = Payload.check(buf, len, VirtioBlkDriver.STREAM);
            if (seq != sector) {
                symptoms.add(new Symptom("disk-write-data", -1, String.format("the disk got %s for sector %d",
                        seq < 0 ? "foreign bytes" : "the block of sector " + seq, sector)));
            }
        }
    }
}
