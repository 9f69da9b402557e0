package tcesim.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;

/**
 * One DMA API call in progress: the hypercalls it still has to make, made one at a time so that each is
 * one atomic step of the vCPU. A TCE list for H_PUT_TCE_INDIRECT is written into the CPU's list page just
 * before its hypercall, as {@code tce_buildmulti_pSeriesLP} fills its per-CPU {@code tce_page}.
 */
public final class DmaOp {
    private final Hypervisor hv;
    private final tcesim.mem.GuestMemory mem;
    private final List<HcallRegs> calls = new ArrayList<>(2);
    private final List<long[]> lists = new ArrayList<>(2);
    private final long listPage;
    private final long dmaAddr;
    private final Consumer<DmaOp> onDone;
    private int next;
    private long firstError = Hcall.H_SUCCESS;
    private HcallRegs last;

    DmaOp(Hypervisor hv, tcesim.mem.GuestMemory mem, long listPage, long dmaAddr, Consumer<DmaOp> onDone) {
        this.hv = hv;
        this.mem = mem;
        this.listPage = listPage;
        this.dmaAddr = dmaAddr;
        this.onDone = onDone;
    }

    void add(HcallRegs call, long[] list) {
        calls.add(call);
        lists.add(list);
    }

    /** The bus address of the mapping (for a map), or of the range being unmapped. */
    public long dmaAddr() { return dmaAddr; }

    public boolean done() { return next >= calls.size(); }

    public int hcalls() { return calls.size(); }

    /** The next hypercall, as it will be issued. */
    public HcallRegs peek() { return calls.get(next); }

    /** Issues the next hypercall; after the last, runs the completion (IOVA release for an unmap). Returns the registers after the call. */
    public HcallRegs step() {
        HcallRegs r = begin();
        hv.hcall(r);
        end(r);
        return r;
    }

    /** Prepares the next hypercall (fills the TCE list page) and returns its registers, for a caller that issues it itself. */
    public HcallRegs begin() {
        long[] list = lists.get(next);
        if (list != null) for (int i = 0; i < list.length; i++) mem.writeLongBE(listPage + 8L * i, list[i]);
        return calls.get(next);
    }

    /** Records the return of the hypercall {@link #begin()} prepared. */
    public void end(HcallRegs r) {
        if (r.r3 != Hcall.H_SUCCESS && firstError == Hcall.H_SUCCESS) firstError = r.r3;
        last = r;
        next++;
        if (done() && onDone != null) onDone.accept(this);
    }

    /** Runs every remaining hypercall (boot-time work that is not interleaved). */
    public DmaOp runToEnd() {
        while (!done()) step();
        return this;
    }

    public long firstError() { return firstError; }
    public HcallRegs last() { return last; }

    /** How far the operation has got: its bus address and the number of hypercalls made. */
    public long digest(long h) {
        return tcesim.papr.Mix.mix(h, dmaAddr, next);
    }
}
