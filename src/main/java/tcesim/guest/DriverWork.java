package tcesim.guest;

/**
 * One operation of a guest driver whose hypercalls a vCPU is making, one per step; when the last has
 * returned, the vCPU hands it back to its {@link #owner()} to finish (post the buffer, deliver the packet,
 * free the page).
 */
public record DriverWork(Kind kind, DmaOp op, DmaBuffer buffer, int usedLen, Owner owner) {
    /** Work of the guest kernel itself rather than of a driver (no buffer, nothing to finish). */
    public static DriverWork kernel(Kind kind, DmaOp op) {
        return new DriverWork(kind, op, new DmaBuffer(-1, -1, op.dmaAddr(), 0, DmaDirection.BIDIRECTIONAL), 0, null);
    }

    public enum Kind {
        RX_REFILL("posted RX buffer"),
        RX_REAP("received a packet in (unmapped)"),
        TX_SEND("posted TX buffer"),
        TX_REAP("completed (unmapped) TX buffer"),
        RX_REVOKE("took back (unmapped, then released) the still posted RX buffer"),
        PT_REFILL("posted passthrough RX buffer"),
        PT_REAP("received a passthrough packet in, then freed,"),
        PT_REVOKE("took back (unmapped, then freed) the still posted passthrough RX buffer"),
        DDW_CLEAR("cleared the 64-bit window before removing it:"),
        HOSTILE("made a hostile call at"),
        BLK_MAP("mapped disk request buffer"),
        BLK_UNMAP("unmapped disk request buffer");

        private final String done;

        Kind(String done) { this.done = done; }

        /** What the finished operation did, for traces: "... page 0x... at iova 0x...". */
        public String done() { return done; }
    }

    private static final Kind[] KINDS = Kind.values();

    /** The driver an operation belongs to. */
    public interface Owner {
        /** Every hypercall of {@code w} has returned, on vCPU {@code cpu}. */
        void finish(DriverWork w, int cpu);

        /**
         * The work that must follow the operation just finished on the same vCPU before it does anything else (the rest
         * of a DMA API sequence made with interrupts off), or null. Called after {@link #finish}.
         */
        default DriverWork next(int cpu) { return null; }
    }

    /** The work as data; its owner is the caller's to record. */
    public void save(tcesim.state.StateWriter out) {
        out.put(kind.ordinal(), usedLen);
        op.save(out);
        buffer.save(out);
    }

    /** Rebuilds work saved by {@link #save} for {@code owner}, whose DMA layer is {@code iommu}. */
    public static DriverWork restore(tcesim.state.StateReader in, PseriesIommu iommu, Owner owner) {
        Kind kind = KINDS[in.nextInt()];
        int usedLen = in.nextInt();
        DmaOp op = iommu.restoreOp(in);
        return new DriverWork(kind, op, DmaBuffer.restore(in), usedLen, owner);
    }
}
