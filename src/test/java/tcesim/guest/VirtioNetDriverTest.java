package tcesim.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tcesim.mem.GuestMemory;
import tcesim.papr.Hcall;
import tcesim.virtio.Vring;

/**
 * The guest's virtio-net driver and virtio ring, against drivers/net/virtio_net.c and drivers/virtio/virtio_ring.c
 * (v5.4): buffer layout, the NAPI poll's phases, the refill threshold, notifications, and when a buffer's page goes
 * back to the page allocator. The device is played by hand: used elements are pushed into the rings directly.
 */
class VirtioNetDriverTest {
    /** A guest with 64 KiB pages, a 64 MiB window of 4 KiB TCEs, and a hypervisor that accepts every TCE hypercall. */
    static final class Rig {
        final GuestMemory mem = new GuestMemory(64L << 20);
        final PageAllocator pages = new PageAllocator(16, 1008, 16, 2);
        final List<Long> hcalls = new ArrayList<>();
        final List<Integer> kicks = new ArrayList<>();
        final PseriesIommu iommu;
        final VirtioNetDriver driver;

        Rig(int ring, VirtioNetDriver.RxBuffers layout, long txPackets) {
            IommuTableAllocator tbl = new IommuTableAllocator(0, (64L << 20) >>> 12, 12);
            iommu = new PseriesIommu(regs -> {
                hcalls.add(regs.r3);
                regs.r3 = Hcall.H_SUCCESS;
            }, mem, 0x80000000L, tbl, FirmwareFeatures.MULTI_TCE, new long[] {pages.gpa(pages.alloc()), pages.gpa(pages.alloc())});
            driver = new VirtioNetDriver(mem, pages, iommu, new Vring(ring, 0x1000), new Vring(ring, 0x2000),
                    new VirtioNetDriver.Config(layout, 1500, txPackets, 0, 0, false, false, true), kicks::add, false);
        }

        /** Runs an activity to its end, its DMA operations' hypercalls included; returns how many operations it made. */
        int run(DriverWork first) {
            int ops = 0;
            for (DriverWork w = first; w != null; w = driver.next(0)) {
                w.op().runToEnd();
                driver.finish(w, 0);
                ops++;
            }
            return ops;
        }

        /** The device uses the next available RX buffer for a packet of {@code len} bytes (with its 12-byte header). */
        Vring.Desc deliver(int len) {
            Vring rx = driver.rx();
            Vring.Desc d = rx.popAvail();
            rx.pushUsed(d.id(), len + VirtioNetDriver.HDR_LEN, 1);
            return d;
        }
    }

    /**
     * add_recvbuf_mergeable: ALIGN(hdr_len + clamp(EWMA, GOOD_PACKET_LEN, PAGE_SIZE - hdr_len), L1_CACHE_BYTES) =
     * ALIGN(12 + 1518, 128) = 1536 bytes, cut one after the other from a 64 KiB fragment page; the 42nd takes the
     * page's last 2560 bytes ("if (hole < len + room) len += hole"). Each is mapped on its own, one or two 4 KiB TCEs.
     */
    @Test
    void mergeableBuffersAre1536BytesCutFromA64KiBPageAndTheLastTakesTheHole() {
        Rig r = new Rig(64, VirtioNetDriver.RxBuffers.MERGEABLE, 0);
        r.run(r.driver.open(0));
        Vring rx = r.driver.rx();
        assertThat(rx.availCount()).isEqualTo(64);
        List<Vring.Desc> d = new ArrayList<>();
        for (int i = 0; i < 64; i++) d.add(rx.availAt(i));
        assertThat(d.subList(0, 41)).allMatch(x -> x.len() == 1536);
        assertThat(d.get(41).len()).isEqualTo(2560);
        assertThat(d.get(42).len()).isEqualTo(1536);
        // The IOVA keeps the buffer's offset in its 4 KiB page; buffers at offsets 3072 and 3584 (mod 4096) span two TCEs.
        assertThat(d.get(0).iova() & 0xfff).isZero();
        assertThat(d.get(1).iova() & 0xfff).isEqualTo(1536);
        assertThat(d.get(2).iova() & 0xfff).isEqualTo(3072);
        assertThat(r.hcalls.stream().filter(h -> h == Hcall.H_PUT_TCE_INDIRECT).count()).as("2 buffers in 8 span two TCEs").isEqualTo(16);
        // Open ends with one kick and the receive NAPI scheduled (virtnet_napi_enable).
        assertThat(r.kicks).containsExactly(0);
        assertThat(r.driver.canPollRx(0)).isTrue();
    }

    /**
     * A poll reaps what the device published when each virtqueue_get_buf runs; try_fill_recv runs only when
     * {@code num_free > min(budget, ring size) / 2} (v5.3 "virtio-net: lower min ring num_free for efficiency").
     */
    @Test
    void thePollRefillsOnlyWhenMoreThanHalfTheRingIsFree() {
        Rig r = new Rig(8, VirtioNetDriver.RxBuffers.MERGEABLE, 0);
        r.run(r.driver.open(0));
        r.run(r.driver.pollRx(0));
        for (int i = 0; i < 4; i++) r.deliver(1500);
        r.driver.raiseInterrupt(0);
        r.driver.rxInterrupt();
        r.run(r.driver.pollRx(0));
        assertThat(r.driver.rxDelivered()).isEqualTo(4);
        assertThat(r.driver.rx().numFree()).as("4 free, not more than 8 / 2: no refill").isEqualTo(4);
        r.deliver(1500);
        r.driver.rxInterrupt();
        r.run(r.driver.pollRx(0));
        assertThat(r.driver.rx().numFree()).as("5 free: refilled to the brim").isZero();
    }

    /**
     * virtqueue_napi_complete: callbacks on (used_event = last_used_idx), then virtqueue_poll: a buffer the device used
     * after the last get_buf is caught there and the NAPI scheduled again.
     */
    @Test
    void completingThePollReArmsCallbacksAndReschedulesForABufferUsedMeanwhile() {
        Rig r = new Rig(8, VirtioNetDriver.RxBuffers.MERGEABLE, 0);
        r.run(r.driver.open(0));
        DriverWork w = r.driver.pollRx(0);
        assertThat(w).as("nothing used: the poll completes at once").isNull();
        assertThat(r.driver.napiScheduled()).isFalse();
        assertThat(r.driver.rxQueue().callbacksEnabled()).isTrue();
        assertThat(r.driver.rx().usedEvent()).isZero();
        r.deliver(1500);
        r.driver.rxInterrupt();
        assertThat(r.driver.napiScheduled()).isTrue();
        assertThat(r.driver.rxQueue().callbacksEnabled()).as("virtqueue_napi_schedule: virtqueue_disable_cb").isFalse();
        // The poll's last reap, then the device uses one more before the poll completes.
        DriverWork reap = r.driver.pollRx(0);
        reap.op().runToEnd();
        r.deliver(1500);
        r.driver.finish(reap, 0);
        // next(): the second used element is reaped in the same poll (more_used), then it completes.
        r.run(r.driver.next(0));
        assertThat(r.driver.rxDelivered()).isEqualTo(2);
        assertThat(r.driver.napiScheduled()).isFalse();
        assertThat(r.driver.rx().usedEvent()).isEqualTo(2);
    }

    /** An interrupt while the NAPI is scheduled sets NAPIF_STATE_MISSED: napi_complete_done then keeps it scheduled. */
    @Test
    void anInterruptDuringThePollKeepsTheNapiScheduled() {
        Rig r = new Rig(8, VirtioNetDriver.RxBuffers.MERGEABLE, 0);
        r.run(r.driver.open(0));
        r.deliver(1500);
        DriverWork reap = r.driver.pollRx(0);
        r.deliver(1500);
        r.driver.rxInterrupt();
        r.run(reap);
        assertThat(r.driver.napiScheduled()).isTrue();
    }

    /**
     * A received buffer keeps its page reference in the skb until the application reads the packet; the fragment page goes
     * back to the allocator only when every buffer cut from it is done and the fragment allocator has left it.
     */
    @Test
    void aFragmentPageIsFreedOnlyWhenEveryBufferIsReadAndTheAllocatorMovedOn() {
        Rig r = new Rig(64, VirtioNetDriver.RxBuffers.MERGEABLE, 0);
        r.run(r.driver.open(0));
        Vring.Desc first = r.driver.rx().peekAvail();
        long page = r.pages.pageOf(gpaOf(r, first));
        // One reference per buffer: 42 buffers; the 43rd came from a new page, so the allocator dropped its own.
        assertThat(r.pages.refCount(page)).isEqualTo(42);
        for (int i = 0; i < 42; i++) r.deliver(1500);
        r.driver.rxInterrupt();
        r.run(r.driver.pollRx(0));
        // Received, unmapped, refilled from other pages: the skbs still hold every buffer of this one.
        assertThat(r.pages.refCount(page)).isEqualTo(42);
        for (int i = 0; i < 41; i++) r.driver.appRecv(0);
        assertThat(r.pages.isAllocated(page)).isTrue();
        r.driver.appRecv(0);
        assertThat(r.pages.isAllocated(page)).isFalse();
    }

    /** page_to_skb copies a packet of at most GOOD_COPY_LEN bytes into the skb and drops the buffer's page reference at once. */
    @Test
    void aShortPacketIsCopiedAndItsBufferReleasedInThePoll() {
        Rig r = new Rig(64, VirtioNetDriver.RxBuffers.MERGEABLE, 0);
        r.run(r.driver.open(0));
        Vring.Desc first = r.driver.rx().peekAvail();
        long page = r.pages.pageOf(gpaOf(r, first));
        int before = r.pages.refCount(page);
        r.deliver(64);
        r.driver.rxInterrupt();
        r.run(r.driver.pollRx(0));
        assertThat(r.pages.refCount(page)).isEqualTo(before - 1);
        assertThat(r.driver.canAppRecv()).isFalse();
    }

    /** start_xmit with TX NAPI: reaps completed buffers, maps the packet, adds it and kicks when virtqueue_kick_prepare says so. */
    @Test
    void startXmitMapsThePacketAndKicksOncePerAvailEvent() {
        Rig r = new Rig(64, VirtioNetDriver.RxBuffers.MERGEABLE, 3);
        r.run(r.driver.open(0));
        r.kicks.clear();
        r.run(r.driver.xmit(0));
        assertThat(r.driver.tx().availCount()).isEqualTo(1);
        assertThat(r.kicks).as("avail_event 0 is passed by the first buffer").containsExactly(1);
        r.run(r.driver.xmit(0));
        assertThat(r.kicks).as("no new avail_event from the device: no second kick").containsExactly(1);
        // The device consumed both and moved avail_event past them (vhost_enable_notify on an empty ring).
        Vring tx = r.driver.tx();
        tx.pushUsed(tx.popAvail().id(), 0);
        tx.pushUsed(tx.popAvail().id(), 0);
        tx.setAvailEvent(tx.availIdx());
        r.run(r.driver.xmit(0));
        assertThat(r.kicks).containsExactly(1, 1);
        assertThat(r.driver.txCompleted()).as("start_xmit reaped the two completed buffers first").isEqualTo(2);
    }

    /**
     * skb_xmit_done schedules the TX NAPI only when used elements are there (else IRQ_NONE); virtnet_poll_tx reaps the
     * completed buffers, unmapping each (H_STUFF_TCE), and completes the NAPI when nothing more is used.
     */
    @Test
    void theTransmitInterruptSchedulesTheTxNapiWhosePollReapsTheCompletedBuffers() {
        Rig r = new Rig(64, VirtioNetDriver.RxBuffers.MERGEABLE, 2);
        r.run(r.driver.open(0));
        r.run(r.driver.xmit(0));
        r.driver.raiseInterrupt(1);
        r.driver.txInterrupt();
        assertThat(r.driver.txNapiScheduled()).as("nothing used yet: IRQ_NONE").isFalse();
        Vring tx = r.driver.tx();
        tx.pushUsed(tx.popAvail().id(), 0);
        r.driver.raiseInterrupt(1);
        assertThat(r.driver.txInterruptPending()).isTrue();
        r.driver.txInterrupt();
        assertThat(r.driver.txInterruptPending()).isFalse();
        assertThat(r.driver.txNapiScheduled()).isTrue();
        assertThat(r.driver.canPollTx(0)).isTrue();
        r.hcalls.clear();
        r.run(r.driver.pollTx(0));
        assertThat(r.driver.txCompleted()).isEqualTo(1);
        assertThat(r.hcalls).as("the buffer is unmapped as it is reaped").contains(Hcall.H_STUFF_TCE);
        assertThat(r.driver.txNapiScheduled()).as("nothing more used: the NAPI completes").isFalse();
    }

    /** The one-page layout: a whole guest page per receive buffer (the small checks' simplification). */
    @Test
    void thePageLayoutPostsAWholePagePerBuffer() {
        Rig r = new Rig(4, VirtioNetDriver.RxBuffers.PAGE, 0);
        r.run(r.driver.open(0));
        for (int i = 0; i < 4; i++) assertThat(r.driver.rx().availAt(i).len()).isEqualTo(r.pages.pageSize());
    }

    private static long gpaOf(Rig r, Vring.Desc d) {
        return r.iommu.gpaAt(d.iova());
    }
}
