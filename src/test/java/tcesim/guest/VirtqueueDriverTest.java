package tcesim.guest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import tcesim.virtio.Vring;

/** The guest's side of a split ring: drivers/virtio/virtio_ring.c's notification decisions (v5.4). */
class VirtqueueDriverTest {
    /** vring_need_event(event, new, old) = (u16)(new - event - 1) < (u16)(new - old), 16-bit wrap included. */
    @Test
    void needEventIsTrueWhenTheNewEntriesPassTheEvent() {
        assertThat(Vring.needEvent(0, 1, 0)).isTrue();
        assertThat(Vring.needEvent(0, 2, 1)).isFalse();
        assertThat(Vring.needEvent(5, 8, 3)).isTrue();
        assertThat(Vring.needEvent(0xffff, 1, 0xfffe)).isTrue();
        assertThat(Vring.needEvent(3, 3, 3)).isFalse();
    }

    /** With EVENT_IDX the driver kicks when the buffers it added since its last decision pass avail_event. */
    @Test
    void kickPrepareWithEventIdxFollowsAvailEvent() {
        Vring r = new Vring(8, 0x1000, true);
        VirtqueueDriver q = new VirtqueueDriver(r);
        q.add(new Vring.Desc(0, 0x10000, 100, false));
        q.add(new Vring.Desc(1, 0x11000, 100, false));
        assertThat(q.kickPrepare()).as("avail_event 0 passed").isTrue();
        q.add(new Vring.Desc(2, 0x12000, 100, false));
        assertThat(q.kickPrepare()).as("avail_event still 0").isFalse();
        r.setAvailEvent(3);
        q.add(new Vring.Desc(3, 0x13000, 100, false));
        assertThat(q.kickPrepare()).isTrue();
    }

    /** Without EVENT_IDX the driver kicks unless used->flags has VRING_USED_F_NO_NOTIFY. */
    @Test
    void kickPrepareWithoutEventIdxFollowsNoNotify() {
        Vring r = new Vring(8, 0x1000, false);
        VirtqueueDriver q = new VirtqueueDriver(r);
        q.add(new Vring.Desc(0, 0x10000, 100, false));
        assertThat(q.kickPrepare()).isTrue();
        r.setNoNotify(true);
        q.add(new Vring.Desc(1, 0x11000, 100, false));
        assertThat(q.kickPrepare()).isFalse();
    }

    /**
     * virtqueue_disable_cb writes nothing with EVENT_IDX (v5.4; 8d622d21d248 made it write used_event = 0 in v5.14);
     * enable_cb_prepare writes used_event = last_used_idx; enable_cb_delayed three quarters of the outstanding ahead.
     */
    @Test
    void callbacksMoveUsedEventOnlyWhenEnabled() {
        Vring r = new Vring(8, 0x1000, true);
        VirtqueueDriver q = new VirtqueueDriver(r);
        for (int i = 0; i < 4; i++) q.add(new Vring.Desc(i, 0x10000L * (i + 1), 100, true));
        for (int i = 0; i < 4; i++) r.pushUsed(r.popAvail().id(), 100);
        q.disableCb();
        q.getBuf();
        assertThat(r.usedEvent()).as("callbacks off: get_buf leaves used_event").isZero();
        int opaque = q.enableCbPrepare();
        assertThat(opaque).isEqualTo(1);
        assertThat(r.usedEvent()).isEqualTo(1);
        assertThat(q.poll(opaque)).as("three more used since").isTrue();
        q.getBuf();
        assertThat(r.usedEvent()).as("callbacks on: get_buf moves used_event").isEqualTo(2);
        assertThat(q.enableCbDelayed()).as("(4 - 2) * 3 / 4 = 1 ahead, but 2 are used already").isFalse();
        assertThat(r.usedEvent()).isEqualTo(3);
    }
}
