package tcesim.vhost;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** vhost's proposed message-handling fixes ({@link VhostDevice.Fixes}), each against the kernel as it is. */
class VhostFixesTest {
    private static final long ACCESS_PLATFORM = 1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM;
    private static final int RX = 0, TX = 1;

    private static VhostDevice device(VhostDevice.Fixes f) {
        VhostDevice d = new VhostDevice(2, VhostDevice.Config.v2019(2048), f, w -> { });
        d.setFeatures(ACCESS_PLATFORM);
        return d;
    }

    private static long write(VhostDevice d, IotlbMsg m) {
        return d.writeFrame(VhostMsgCodec.encodeV1(m));
    }

    /** The duplicate-MISS race: the second MISS is read, translated, then the entry is invalidated, then its UPDATE arrives. */
    private static VhostDevice lateUpdate(VhostDevice.Fixes f) {
        VhostDevice d = device(f);
        d.translate(RX, 0x5000, 64, IotlbMsg.WO);
        d.translate(RX, 0x5000, 64, IotlbMsg.WO);
        d.readMsg();
        write(d, IotlbMsg.update(0x5000, 0x1000, 0x7f00_0000_0000L, IotlbMsg.RW)); // answers the first
        d.readMsg(); // the second, translated before the guest clears the entry
        write(d, IotlbMsg.invalidate(0x5000, 0x1000)); // KVM's link, from inside the clearing hypercall
        write(d, IotlbMsg.update(0x5000, 0x1000, 0x7f00_0000_0000L, IotlbMsg.RW)); // the second's late answer
        return d;
    }

    @Test
    void todayALateAnswerReinstallsTheInvalidatedTranslation() {
        VhostDevice d = lateUpdate(VhostDevice.Fixes.NONE);
        assertThat(d.translate(RX, 0x5000, 64, IotlbMsg.WO)).isInstanceOf(VhostDevice.TranslateResult.Mapped.class);
        assertThat(d.lateUpdatesDropped()).isZero();
    }

    @Test
    void droppingTheLateUpdateKeepsTheEntryOutAndSendsTheMissAgain() {
        VhostDevice d = lateUpdate(new VhostDevice.Fixes(true, false));
        assertThat(d.lateUpdatesDropped()).isEqualTo(1);
        assertThat(d.iotlb().size()).isZero();
        assertThat(d.readList()).extracting(q -> q.msg()).containsExactly(IotlbMsg.miss(0x5000, IotlbMsg.WO));
        assertThat(d.pendingList()).isEmpty();
        // Read again and answered after the INVALIDATE, the UPDATE goes in.
        d.readMsg();
        assertThat(write(d, IotlbMsg.update(0x5000, 0x1000, 0x7f00_0000_1000L, IotlbMsg.RW))).isEqualTo(72);
        assertThat(d.translate(RX, 0x5000, 64, IotlbMsg.WO)).isInstanceOf(VhostDevice.TranslateResult.Mapped.class);
        assertThat(d.queuedWorks()).contains(RX);
    }

    @Test
    void aMarkedMissAnUpdateDoesNotAnswerDoesNotDropIt() {
        // A MISS QEMU could not translate stays pending; an INVALIDATE marks it; a fresh MISS at the same page read after it
        // is the one the next UPDATE answers.
        VhostDevice d = device(new VhostDevice.Fixes(true, false));
        d.translate(RX, 0x5000, 64, IotlbMsg.WO);
        d.readMsg(); // no translation: nothing sent
        write(d, IotlbMsg.invalidate(0x5000, 0x1000));
        d.translate(TX, 0x5000, 64, IotlbMsg.RO);
        d.readMsg();
        write(d, IotlbMsg.update(0x5000, 0x1000, 0x7f00_0000_0000L, IotlbMsg.RO));
        assertThat(d.lateUpdatesDropped()).isZero();
        assertThat(d.translate(TX, 0x5000, 64, IotlbMsg.RO)).isInstanceOf(VhostDevice.TranslateResult.Mapped.class);
    }

    @Test
    void theMarkIsPartOfTheSavedState() {
        VhostDevice a = device(new VhostDevice.Fixes(true, false));
        a.translate(RX, 0x5000, 64, IotlbMsg.WO);
        a.readMsg();
        VhostDevice b = a.copy();
        write(a, IotlbMsg.invalidate(0x5000, 0x1000));
        tcesim.state.StateWriter wa = new tcesim.state.StateWriter(), wb = new tcesim.state.StateWriter();
        a.save(wa);
        b.save(wb);
        assertThat(wa.toArray()).isNotEqualTo(wb.toArray());
        VhostDevice c = device(new VhostDevice.Fixes(true, false));
        c.restore(new tcesim.state.StateReader(wa.toArray()));
        write(c, IotlbMsg.update(0x5000, 0x1000, 0x7f00_0000_0000L, IotlbMsg.RW));
        assertThat(c.lateUpdatesDropped()).isEqualTo(1);
    }

    @Test
    void aSingleMissPerQueueAndIova() {
        VhostDevice today = device(VhostDevice.Fixes.NONE);
        today.translate(RX, 0x5000, 64, IotlbMsg.WO);
        today.translate(RX, 0x5000, 64, IotlbMsg.WO);
        assertThat(today.missesQueued()).isEqualTo(2);

        VhostDevice d = device(new VhostDevice.Fixes(false, true));
        assertThat(d.translate(RX, 0x5000, 64, IotlbMsg.WO)).isInstanceOf(VhostDevice.TranslateResult.Miss.class);
        d.readMsg();
        assertThat(d.translate(RX, 0x5000, 64, IotlbMsg.WO)).as("still -EAGAIN: the queue waits").isInstanceOf(VhostDevice.TranslateResult.Miss.class);
        assertThat(d.missesQueued()).isEqualTo(1);
        d.translate(TX, 0x5000, 64, IotlbMsg.RO); // another queue's MISS is its own
        assertThat(d.missesQueued()).isEqualTo(2);
        write(d, IotlbMsg.update(0x5000, 0x1000, 0x7f00_0000_0000L, IotlbMsg.RW));
        assertThat(d.queuedWorks()).contains(RX);
    }
}
