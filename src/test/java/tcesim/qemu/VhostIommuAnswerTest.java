package tcesim.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tcesim.mem.GuestMemory;
import tcesim.papr.Hcall;
import tcesim.papr.HcallRegs;
import tcesim.papr.Tce;
import tcesim.vhost.IotlbMsg;
import tcesim.vhost.VhostDevice;
import tcesim.vhost.VhostMsgCodec;

/** The permission QEMU's UPDATE carries ({@link VhostIommu.Answer}). */
class VhostIommuAnswerTest {
    static final long LIOBN = 0x80000000L;

    static IotlbMsg answer(VhostIommu.Answer a, long perm) {
        GuestMemory mem = new GuestMemory(16L << 20);
        Spapr spapr = new Spapr(null, mem, QemuPolicy.STOCK);
        spapr.createTable(LIOBN, 12, 0, 16);
        assertThat(spapr.papr_hcall(HcallRegs.of(Hcall.H_PUT_TCE, LIOBN, 0x3000, Tce.make(0x140000, perm)))).isEqualTo(Hcall.H_SUCCESS);
        VhostDevice vhost = new VhostDevice(2, 2048);
        VhostIommu glue = new VhostIommu(vhost, spapr, mem, VhostMsgCodec.VHOST_IOTLB_MSG_V2, QemuVersion.Q4_2, VhostIommu.Planted.NONE, a);
        glue.regionAdd(LIOBN);
        return glue.translate(0x3000, IotlbMsg.RO);
    }

    @Test
    void qemuAnswersReadWriteWhateverTheTceAllows() {
        assertThat(answer(VhostIommu.Answer.RW, Tce.READ).perm()).isEqualTo(IotlbMsg.RW);
    }

    @Test
    void withTheTcesOwnPermissionAReadOnlyTceIsCachedReadOnly() {
        assertThat(answer(VhostIommu.Answer.TCE_PERM, Tce.READ).perm()).isEqualTo(IotlbMsg.RO);
        assertThat(answer(VhostIommu.Answer.TCE_PERM, Tce.READ | Tce.WRITE).perm()).isEqualTo(IotlbMsg.RW);
    }
}
