package tcesim.guest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tcesim.mem.GuestMemory;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;

/** A hypercall's TCE list, which a restored vCPU whose call is parked puts back in its list page. */
class DmaOpTest {
    static final long LIST = 0x20000;
    final GuestMemory mem = new GuestMemory(16L << 20);
    final PseriesIommu iommu = new PseriesIommu(regs -> regs.r3 = Hcall.H_SUCCESS, mem, 0x80000000L,
            new IommuTableAllocator(0, (16L << 20) >>> 12, 12), FirmwareFeatures.MULTI_TCE, new long[] {LIST});

    private long[] list(int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = mem.readLongBE(LIST + 8L * i);
        return out;
    }

    @Test
    void rewritingAnIndirectCallsListWritesWhatBeginWrote() {
        DmaOp op = iommu.map(0, 0x100000, 3 * 4096, DmaDirection.FROM_DEVICE);
        HcallRegs r = op.begin();
        assertThat(r.r3).isEqualTo(Hcall.H_PUT_TCE_INDIRECT);
        long[] written = list(3);
        assertThat(written[2]).isNotZero();
        for (int i = 0; i < 3; i++) mem.writeLongBE(LIST + 8L * i, 0);
        op.rewriteList();
        assertThat(list(3)).containsExactly(written);
    }

    @Test
    void aCallWithoutAListWritesNothing() {
        DmaOp op = iommu.map(0, 0x100000, 4096, DmaDirection.FROM_DEVICE); // one page: H_PUT_TCE
        assertThat(op.begin().r3).isEqualTo(Hcall.H_PUT_TCE);
        mem.writeLongBE(LIST, 0x1234);
        op.rewriteList();
        assertThat(list(1)).containsExactly(0x1234L);
    }
}
