package tcesim.vhost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tcesim.virtio.Vring;

/**
 * vhost-net's wake-up rules, each against the lines of drivers/vhost/net.c and vhost.c it models (late-2019 tree,
 * control flow unchanged in 2022 and 2025: docs/fidelity.md). The guest side is played by hand here: descriptors are
 * posted straight into the rings, kicks are calls to {@link VhostNet#kick}, and QEMU answers a MISS by reading it and
 * writing an UPDATE.
 */
class VhostNetTest {
    static final int RX = VhostNet.RX_VQ, TX = VhostNet.TX_VQ;
    static final long RING = 0x1000, RX_RING = 0x1000, TX_RING = 0x2000;
    static final long HVA = 0x7f00_0000_0000L;

    /** A vhost-net device with its rings mapped (as QEMU's pre-load and the first misses leave them), a tap and a guest that counts interrupts. */
    static final class Rig {
        final VhostDevice dev = new VhostDevice(2, VhostDevice.Config.v2019(64));
        final Vring rx;
        final Vring tx;
        final ArrayDeque<Integer> tap = new ArrayDeque<>();
        final List<Long> accesses = new ArrayList<>();
        final int[] interrupts = new int[2];
        int sent;
        final VhostNet net;
        int nextId;

        Rig() {
            this(8);
        }

        Rig(int ringSize) {
            rx = new Vring(ringSize, RX_RING);
            tx = new Vring(ringSize, TX_RING);
            dev.setBackendFeatures(VhostDevice.VHOST_NET_BACKEND_FEATURES);
            dev.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
            map(RX_RING);
            map(TX_RING);
            net = new VhostNet(dev, rx, tx, new VhostNet.UserMemory() {
                public boolean mapped(long hva, long len) { return true; }
                public void write(long hva, byte[] src, int off, int len) { }
                public void read(long hva, byte[] dst, int off, int len) { }
            }, new VhostNet.Tap() {
                public int peekRx() { return tap.isEmpty() ? -1 : tap.peekFirst(); }
                public void takeRx(byte[] buf) { tap.removeFirst(); }
                public void transmit(byte[] buf, int len) { sent++; }
            }, (vq, iova, len, hva, write) -> accesses.add(iova), vq -> interrupts[vq]++, 1500, false);
        }

        /** QEMU answers with an UPDATE of the page at {@code iova}. */
        /** A rig whose backend is set and whose first runs (the TX socket's wake-up at start) are done. */
        static Rig started() {
            Rig r = new Rig();
            r.net.setBackend();
            r.runAll();
            return r;
        }

        void map(long iova) {
            assertThat(dev.writeMsg(IotlbMsg.update(iova & ~0xfffL, 0x1000, HVA + (iova & ~0xfffL), IotlbMsg.RW))).isEqualTo(72);
        }

        /** QEMU reads every queued MISS and answers each. */
        void answerMisses() {
            for (VhostDevice.QueuedMsg m = dev.readMsg(); m != null; m = dev.readMsg()) map(m.msg().iova());
        }

        void postRx(long iova) { rx.post(new Vring.Desc(nextId++, iova, 1536, true)); }
        void postTx(long iova) { tx.post(new Vring.Desc(nextId++, iova, 1512, false)); }
        void packetArrives() {
            tap.addLast(1500);
            net.tapReadable();
        }

        /** Runs the worker until nothing is queued; returns the outcomes. */
        List<VhostNet.Outcome> runAll() {
            List<VhostNet.Outcome> out = new ArrayList<>();
            for (int i = 0; i < 10_000 && net.canRun(); i++) out.add(net.step());
            return out;
        }

        long misses() { return dev.missesQueued(); }
    }

    @Test
    void atStartTheTxSocketWorkRunsOnceAndTheRxSocketPollIsArmed() {
        Rig r = new Rig();
        r.net.setBackend();
        // vhost_net_set_backend -> vhost_net_enable_vq -> vhost_poll_start: vfs_poll of a writable tap reports EPOLLOUT at once.
        assertThat(r.dev.queuedWorks()).hasSize(1);
        assertThat(r.net.socketArmed(RX)).isTrue();
        r.runAll();
        assertThat(r.net.lastExit(TX)).isEqualTo(VhostNet.Exit.EMPTY);
        assertThat(r.net.socketArmed(TX)).as("handle_tx: vhost_net_disable_vq at entry").isFalse();
    }

    /**
     * handle_rx: "headcount = get_rx_bufs(...); /* On error, stop handling until the next kick. *&#47; if (unlikely(headcount < 0))
     * goto out;" leaves by {@code out:}, which neither re-arms the socket poll (stopped at entry by vhost_net_disable_vq) nor
     * enables guest notifications: packets reaching the tap afterwards run nothing, and queue no second MISS.
     */
    @Test
    void afterADescriptorMissPacketsReachingTheTapDoNotRunHandleRx() {
        Rig r = Rig.started();
        r.postRx(0x10000);
        r.packetArrives();
        assertThat(r.runAll()).containsExactly(VhostNet.Outcome.MISS);
        assertThat(r.net.lastExit(RX)).isEqualTo(VhostNet.Exit.MISS);
        assertThat(r.net.socketArmed(RX)).isFalse();
        assertThat(r.net.notificationsDisabled(RX)).isTrue();
        for (int i = 0; i < 5; i++) r.packetArrives();
        assertThat(r.net.canRun()).as("the tap's wake-ups find no armed poll").isFalse();
        assertThat(r.misses()).isEqualTo(1);
        // The UPDATE re-kicks the queue (vhost_iotlb_notify_vq: vhost_poll_queue(&node->vq->poll)).
        r.answerMisses();
        assertThat(r.net.canRun()).isTrue();
        r.runAll();
        assertThat(r.accesses).containsExactly(0x10000L);
        assertThat(r.misses()).isEqualTo(1);
    }

    /**
     * handle_rx: "if (!vq_meta_prefetch(vq)) goto out;" comes before vhost_disable_notify and vhost_net_disable_vq: a miss
     * on the ring itself leaves the socket poll as the last run left it. Armed after a drained exit, every packet on the
     * tap runs handle_rx again, and each run queues one more MISS (vhost_iotlb_miss looks for no MISS already queued).
     */
    @Test
    void aRingMissLeavesTheSocketPollArmedSoEachPacketQueuesAnotherMiss() {
        Rig r = Rig.started();
        assertThat(r.net.socketArmed(RX)).isTrue();
        r.dev.writeMsg(IotlbMsg.invalidate(RX_RING, 0x1000)); // the ring's entry is gone (evicted, say)
        r.postRx(0x10000);
        r.packetArrives();
        assertThat(r.runAll()).containsExactly(VhostNet.Outcome.MISS);
        assertThat(r.net.lastExit(RX)).isEqualTo(VhostNet.Exit.PREFETCH_MISS);
        assertThat(r.net.socketArmed(RX)).as("prefetch failed before vhost_net_disable_vq").isTrue();
        r.packetArrives();
        r.runAll();
        r.packetArrives();
        r.runAll();
        assertThat(r.misses()).isEqualTo(3);
        assertThat(r.dev.readList()).extracting(m -> m.msg().iova()).containsExactly(RX_RING, RX_RING, RX_RING);
    }

    /**
     * The kick work (vq->poll, handle_rx_kick) and the socket work (n->poll[RX], handle_rx_net) are two works that both
     * call handle_rx (vhost_net_open); both may be queued, and a run clears only its own VHOST_WORK_QUEUED bit, so
     * handle_rx runs twice and the second run misses again on the same descriptor.
     */
    @Test
    void aKickAndASocketWakeUpQueuedTogetherRunHandleRxTwiceAndQueueTwoMisses() {
        Rig r = Rig.started();
        r.postRx(0x10000);
        r.net.kick(RX);
        r.packetArrives();
        assertThat(r.dev.queuedWorks()).hasSize(2);
        assertThat(r.runAll()).containsExactly(VhostNet.Outcome.MISS, VhostNet.Outcome.MISS);
        assertThat(r.dev.readList()).extracting(m -> m.msg().iova()).containsExactly(0x10000L, 0x10000L);
    }

    /** A work queued twice before it runs runs once (vhost_work_queue: test_and_set_bit(VHOST_WORK_QUEUED)). */
    @Test
    void twoKicksBeforeTheWorkerRunsQueueOneRun() {
        Rig r = new Rig();
        r.postTx(0x20000);
        r.net.kick(TX);
        r.net.kick(TX);
        assertThat(r.runAll()).containsExactly(VhostNet.Outcome.MISS);
        assertThat(r.misses()).isEqualTo(1);
    }

    /**
     * handle_rx's drained exit: "else if (!sock_len) vhost_net_enable_vq(net, vq);" re-arms the socket poll; guest
     * notifications, disabled at entry, stay disabled, and with EVENT_IDX vhost_disable_notify wrote nothing to the ring:
     * avail_event keeps the value of the last enable.
     */
    @Test
    void aDrainedRunReArmsTheSocketPollAndLeavesNotificationsOff() {
        Rig r = Rig.started();
        r.map(0x10000);
        r.postRx(0x10000);
        r.postRx(0x10600);
        r.packetArrives();
        int availEventBefore = r.rx.availEvent();
        r.runAll();
        assertThat(r.net.lastExit(RX)).isEqualTo(VhostNet.Exit.DRAINED);
        assertThat(r.net.socketArmed(RX)).isTrue();
        assertThat(r.net.notificationsDisabled(RX)).isTrue();
        assertThat(r.rx.availEvent()).isEqualTo(availEventBefore);
        // The next packet runs handle_rx through the socket poll.
        r.packetArrives();
        assertThat(r.net.canRun()).isTrue();
    }

    /**
     * handle_rx with a packet and no buffer: "else if (unlikely(vhost_enable_notify(&net->dev, vq))) {...continue;}
     * goto out;": notifications on (avail_event = the ring's avail index, so the guest's next post kicks), the socket
     * poll still stopped: more packets run nothing.
     */
    @Test
    void anEmptyRingEnablesNotificationsAndLeavesTheSocketPollStopped() {
        Rig r = Rig.started();
        r.packetArrives();
        r.runAll();
        assertThat(r.net.lastExit(RX)).isEqualTo(VhostNet.Exit.EMPTY);
        assertThat(r.net.notificationsDisabled(RX)).isFalse();
        assertThat(r.rx.availEvent()).isEqualTo(r.rx.availIdx());
        assertThat(r.net.socketArmed(RX)).isFalse();
        r.packetArrives();
        assertThat(r.net.canRun()).isFalse();
        // The guest's next buffer passes avail_event: its kick_prepare says kick.
        r.postRx(0x10000);
        assertThat(Vring.needEvent(r.rx.availEvent(), r.rx.availIdx(), r.rx.availIdx() - 1)).isTrue();
    }

    /**
     * With EVENT_IDX, a MISS exit leaves avail_event where the last enable put it: the guest's next post may still kick
     * (once, if it passes that index), and that kick runs handle_rx, which misses again: the one way a guest kick repeats
     * a MISS.
     */
    @Test
    void aStaleAvailEventLetsOneGuestKickThroughAfterAMiss() {
        Rig r = Rig.started();
        r.packetArrives();
        r.runAll(); // empty ring: avail_event = 0
        r.postRx(0x10000); // passes avail_event: the guest kicks
        boolean kick = Vring.needEvent(r.rx.availEvent(), r.rx.availIdx(), r.rx.availIdx() - 1);
        assertThat(kick).isTrue();
        r.net.kick(RX);
        r.runAll();
        assertThat(r.net.lastExit(RX)).isEqualTo(VhostNet.Exit.MISS);
        // A second buffer does not pass avail_event again: no kick, no run, no MISS.
        r.postRx(0x11000);
        assertThat(Vring.needEvent(r.rx.availEvent(), r.rx.availIdx(), r.rx.availIdx() - 1)).isFalse();
        assertThat(r.misses()).isEqualTo(1);
    }

    /** Without EVENT_IDX, vhost_disable_notify writes VRING_USED_F_NO_NOTIFY to used->flags and a MISS exit leaves it: the guest does not kick. */
    @Test
    void withoutEventIdxAMissExitLeavesNoNotifyInTheRing() {
        VhostDevice dev = new VhostDevice(2, VhostDevice.Config.v2019(64));
        dev.setFeatures(1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM);
        dev.writeMsg(IotlbMsg.update(RX_RING, 0x1000, HVA, IotlbMsg.RW));
        dev.writeMsg(IotlbMsg.update(TX_RING, 0x1000, HVA, IotlbMsg.RW));
        Vring rx = new Vring(8, RX_RING, false);
        ArrayDeque<Integer> tap = new ArrayDeque<>(List.of(1500));
        VhostNet net = new VhostNet(dev, rx, new Vring(8, TX_RING, false), new VhostNet.UserMemory() {
            public boolean mapped(long hva, long len) { return true; }
            public void write(long hva, byte[] src, int off, int len) { }
            public void read(long hva, byte[] dst, int off, int len) { }
        }, new VhostNet.Tap() {
            public int peekRx() { return tap.isEmpty() ? -1 : tap.peekFirst(); }
            public void takeRx(byte[] buf) { tap.removeFirst(); }
            public void transmit(byte[] buf, int len) { }
        }, (vq, iova, len, hva, write) -> { }, vq -> { }, 1500, false);
        rx.post(new Vring.Desc(0, 0x10000, 1536, true));
        net.kick(RX);
        while (net.canRun()) net.step();
        assertThat(net.lastExit(RX)).isEqualTo(VhostNet.Exit.MISS);
        assertThat(rx.noNotify()).isTrue();
    }

    /** vhost_exceeds_weight after VHOST_NET_PKT_WEIGHT packets: "vhost_poll_queue(&vq->poll); return true;": the run ends, its kick work is queued again. */
    @Test
    void theWeightEndsARunAndQueuesTheKickWorkAgain() {
        Rig r = new Rig(512);
        r.net.setBackend();
        r.runAll();
        for (int i = 0; i < 8; i++) r.map(0x10000 + 0x1000L * i);
        while (r.rx.hasRoom()) r.postRx(0x10000 + 0x1000L * (r.nextId % 8));
        for (int i = 0; i < 300; i++) r.packetArrives();
        int packets = 0;
        while (r.net.canRun()) {
            if (r.net.step() == VhostNet.Outcome.DONE) packets++;
            if (r.net.runningVq() < 0) break;
        }
        assertThat(packets).isEqualTo(VhostNet.VHOST_NET_PKT_WEIGHT);
        assertThat(r.net.lastExit(RX)).isEqualTo(VhostNet.Exit.WEIGHT);
        assertThat(r.dev.queuedWorks()).containsExactly(RX);
        assertThat(r.net.socketArmed(RX)).as("sock_len was not 0: the socket poll stays stopped").isFalse();
    }

    /**
     * Used elements are written in a batch at the run's end (vhost_net_signal_used at out:), and vhost_notify interrupts
     * the guest the first time (signalled_used_valid false), then only when used->idx passed the driver's used_event.
     */
    @Test
    void usedElementsAreWrittenAtTheExitAndTheGuestInterruptedAsUsedEventSays() {
        Rig r = Rig.started();
        r.map(0x10000);
        r.postRx(0x10000);
        r.postRx(0x10600);
        r.packetArrives();
        r.packetArrives();
        r.net.step();
        assertThat(r.rx.usedCount()).as("the first packet's element is not written yet").isZero();
        r.runAll();
        assertThat(r.rx.usedCount()).isEqualTo(2);
        assertThat(r.interrupts[RX]).isEqualTo(1);
        // The guest leaves used_event at 0 (callbacks off): the next batch interrupts nobody.
        r.postRx(0x10000);
        r.packetArrives();
        r.runAll();
        assertThat(r.interrupts[RX]).isEqualTo(1);
        // used_event = 3 (the guest re-enabled callbacks having reaped 3): the next used element passes it.
        r.rx.setUsedEvent(3);
        r.postRx(0x10600);
        r.packetArrives();
        r.runAll();
        assertThat(r.interrupts[RX]).isEqualTo(2);
    }

    /** vhost_process_iotlb_msg takes every virtqueue mutex: while a run holds one, an IOTLB message waits (the model refuses to process it). */
    @Test
    void anIotlbMessageWaitsWhileARunHoldsTheVirtqueueMutex() {
        Rig r = Rig.started();
        r.map(0x10000);
        r.postRx(0x10000);
        r.postRx(0x10600);
        r.packetArrives();
        r.packetArrives();
        r.net.step();
        assertThat(r.net.runningVq()).isEqualTo(RX);
        assertThat(r.dev.acceptsIotlbMsg()).isFalse();
        assertThatThrownBy(() -> r.dev.writeMsg(IotlbMsg.invalidate(0x10000, 0x1000))).isInstanceOf(IllegalStateException.class);
        r.runAll();
        assertThat(r.dev.acceptsIotlbMsg()).isTrue();
    }

    /** A packet larger than one buffer takes several (get_rx_bufs with mergeable buffers), the first carrying num_buffers. */
    @Test
    void aPacketLargerThanABufferTakesSeveralAndTheFirstSaysHowMany() {
        Rig r = Rig.started();
        r.map(0x10000);
        r.rx.post(new Vring.Desc(r.nextId++, 0x10000, 1024, true));
        r.rx.post(new Vring.Desc(r.nextId++, 0x10400, 1024, true));
        r.packetArrives();
        r.runAll();
        assertThat(r.rx.usedCount()).isEqualTo(2);
        Vring.Used first = r.rx.popUsed();
        Vring.Used second = r.rx.popUsed();
        assertThat(first.bufs()).isEqualTo(2);
        assertThat(first.len() + second.len()).isEqualTo(1500 + VhostNet.VNET_HDR_LEN);
    }

    /** handle_tx: a MISS breaks the loop ("if (unlikely(head < 0)) break;"): no enable_notify, no socket poll, no requeue; the UPDATE's re-kick runs it. */
    @Test
    void handleTxStopsOnAMissUntilTheUpdate() {
        Rig r = new Rig();
        r.postTx(0x20000);
        r.net.kick(TX);
        r.runAll();
        assertThat(r.net.lastExit(TX)).isEqualTo(VhostNet.Exit.MISS);
        assertThat(r.net.notificationsDisabled(TX)).isTrue();
        assertThat(r.net.canRun()).isFalse();
        r.answerMisses();
        r.runAll();
        assertThat(r.sent).isEqualTo(1);
        assertThat(r.net.lastExit(TX)).isEqualTo(VhostNet.Exit.EMPTY);
    }
}
