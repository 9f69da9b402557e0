package tcesim.vhost;

import tcesim.testutil.States;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VhostDeviceTest {

    private static final long ACCESS_PLATFORM = 1L << VhostDevice.VIRTIO_F_ACCESS_PLATFORM;
    private static final int RX = 0;
    private static final int TX = 1;

    private static VhostDevice device() {
        VhostDevice d = new VhostDevice(2, 2048);
        assertThat(d.setFeatures(ACCESS_PLATFORM)).isZero();
        return d;
    }

    private static long update(VhostDevice d, long iova, long size, long uaddr, int perm) {
        return d.writeFrame(VhostMsgCodec.encodeV1(IotlbMsg.update(iova, size, uaddr, perm)));
    }

    private static long invalidate(VhostDevice d, long iova, long size) {
        return d.writeFrame(VhostMsgCodec.encodeV1(IotlbMsg.invalidate(iova, size)));
    }

    /** The works queued on the worker, taken as the worker would (first queued, first run). */
    private static List<Integer> drain(VhostDevice d) {
        List<Integer> out = new ArrayList<>();
        for (int w = d.takeWork(); w >= 0; w = d.takeWork()) out.add(w);
        return out;
    }

    private static IotlbMsg decodeOk(byte[] f) {
        VhostMsgCodec.DecodeResult r = VhostMsgCodec.decode(f);
        assertThat(r).isInstanceOf(VhostMsgCodec.DecodeResult.Ok.class);
        return ((VhostMsgCodec.DecodeResult.Ok) r).msg();
    }

    @Test
    void constantsMatchUapi() {
        assertThat(VhostDevice.VIRTIO_F_ACCESS_PLATFORM).isEqualTo(33);
        assertThat(VhostDevice.VHOST_NET_BACKEND_FEATURES).isEqualTo(0x2L);
        assertThat(IotlbMsg.MISS).isEqualTo(1);
        assertThat(IotlbMsg.BATCH_END).isEqualTo(6);
        assertThat(IotlbMsg.RW).isEqualTo(IotlbMsg.RO | IotlbMsg.WO);
    }

    @Test
    void missReadUpdateRekicks() {
        List<Integer> kicks = new ArrayList<>();
        VhostDevice d = new VhostDevice(2, VhostDevice.Config.current(2048), kicks::add);
        d.setFeatures(ACCESS_PLATFORM);

        VhostDevice.TranslateResult r = d.translate(RX, 0x5010, 100, IotlbMsg.WO);
        assertThat(r).isEqualTo(new VhostDevice.TranslateResult.Miss(0x5010, IotlbMsg.WO));
        assertThat(d.hasWork()).as("a MISS queues no work: the handler that missed has ended").isFalse();
        assertThat(d.readable()).isTrue();

        byte[] f = d.readFrame();
        assertThat(f).hasSize(72);
        IotlbMsg miss = decodeOk(f);
        assertThat(miss).isEqualTo(new IotlbMsg(0x5010, 0, 0, IotlbMsg.WO, IotlbMsg.MISS));
        assertThat(d.readList()).isEmpty();
        assertThat(d.pendingList()).hasSize(1);
        assertThat(d.readFrame()).isNull(); // -EAGAIN

        assertThat(update(d, 0x5000, 0x1000, 0x7f00_0000_0000L, IotlbMsg.RW)).isEqualTo(72);
        assertThat(kicks).containsExactly(RX);
        assertThat(drain(d)).containsExactly(RX);
        assertThat(drain(d)).isEmpty();
        assertThat(d.pendingList()).isEmpty();

        VhostDevice.TranslateResult ok = d.translate(RX, 0x5010, 100, IotlbMsg.WO);
        assertThat(ok).isEqualTo(new VhostDevice.TranslateResult.Mapped(
                List.of(new VhostDevice.Segment(0x7f00_0000_0010L, 100))));
    }

    @Test
    void updateNotCoveringTheMissDoesNotRekick() {
        VhostDevice d = device();
        d.translate(RX, 0x5010, 100, IotlbMsg.WO);
        d.readFrame();
        update(d, 0x6000, 0x1000, 0x1000, IotlbMsg.RW);
        assertThat(drain(d)).isEmpty();
        assertThat(d.pendingList()).hasSize(1);
    }

    @Test
    void updateBeforeReadRekicksNothing() {
        VhostDevice d = device();
        d.translate(TX, 0x9000, 16, IotlbMsg.RO);
        assertThat(update(d, 0x9000, 0x1000, 0xA000, IotlbMsg.RO)).isEqualTo(72);
        assertThat(drain(d)).isEmpty();
        // The MISS is still queued; reading it later parks it on pending_list,
        // where only a further UPDATE will re-kick the queue.
        assertThat(d.readList()).hasSize(1);
        d.readFrame();
        assertThat(drain(d)).isEmpty();
        assertThat(d.pendingList()).hasSize(1);
        update(d, 0x9000, 0x1000, 0xA000, IotlbMsg.RO);
        assertThat(drain(d)).containsExactly(TX);
    }

    @Test
    void oneUpdateRekicksEveryCoveredReadMissOnce() {
        int[] kickCount = new int[2];
        VhostDevice d = new VhostDevice(2, VhostDevice.Config.current(2048), vq -> kickCount[vq]++);
        d.setFeatures(ACCESS_PLATFORM);
        d.translate(RX, 0x1000, 8, IotlbMsg.WO);
        d.translate(RX, 0x1800, 8, IotlbMsg.WO); // a second MISS from the same vq
        d.translate(TX, 0x1F00, 8, IotlbMsg.RO);
        d.translate(TX, 0x3000, 8, IotlbMsg.RO);
        while (d.readFrame() != null) { }
        update(d, 0x1000, 0x1000, 0x50000, IotlbMsg.RW);
        assertThat(drain(d)).containsExactly(RX, TX);
        assertThat(kickCount).containsExactly(1, 1); // VHOST_WORK_QUEUED de-duplicates
        assertThat(d.rekicks()).isEqualTo(3);
        assertThat(d.pendingList()).extracting(m -> m.msg().iova()).containsExactly(0x3000L);
    }

    @Test
    void translationAcrossEntriesAndPartialMiss() {
        VhostDevice d = device();
        update(d, 0x0000, 0x1000, 0x10000, IotlbMsg.RW);
        update(d, 0x1000, 0x1000, 0x40000, IotlbMsg.RW);
        VhostDevice.TranslateResult r = d.translate(RX, 0x0F00, 0x200, IotlbMsg.WO);
        assertThat(r).isEqualTo(new VhostDevice.TranslateResult.Mapped(List.of(
                new VhostDevice.Segment(0x10F00, 0x100), new VhostDevice.Segment(0x40000, 0x100))));
        // Crossing into an unmapped page: MISS for the first untranslated byte.
        VhostDevice.TranslateResult m = d.translate(RX, 0x1F00, 0x200, IotlbMsg.WO);
        assertThat(m).isEqualTo(new VhostDevice.TranslateResult.Miss(0x2000, IotlbMsg.WO));
        assertThat(decodeOk(d.readFrame()).iova()).isEqualTo(0x2000);
    }

    @Test
    void permissionMismatchIsEpermWithoutMiss() {
        VhostDevice d = device();
        update(d, 0x4000, 0x1000, 0x8000, IotlbMsg.RO);
        VhostDevice.TranslateResult r = d.translate(RX, 0x4000, 64, IotlbMsg.WO);
        assertThat(r).isEqualTo(new VhostDevice.TranslateResult.Failed(-Errno.EPERM));
        assertThat(d.readList()).isEmpty();
        assertThat(d.translate(RX, 0x4000, 64, IotlbMsg.RO)).isInstanceOf(VhostDevice.TranslateResult.Mapped.class);
    }

    @Test
    void staleEntryIsUsedUntilInvalidated() {
        // The bug in one picture: nothing but an INVALIDATE removes N -> M1.
        VhostDevice d = device();
        update(d, 0x8000, 0x1000, M1, IotlbMsg.RW);
        assertThat(d.translate(RX, 0x8000, 8, IotlbMsg.WO)).isEqualTo(new VhostDevice.TranslateResult.Mapped(
                List.of(new VhostDevice.Segment(M1, 8))));
        assertThat(invalidate(d, 0x8000, 0x1000)).isEqualTo(72);
        assertThat(d.translate(RX, 0x8000, 8, IotlbMsg.WO)).isInstanceOf(VhostDevice.TranslateResult.Miss.class);
    }

    private static final long M1 = 0x7f11_0000_0000L;

    @Test
    void updateWithSizeZeroIsRejected() {
        VhostDevice d = device();
        assertThat(update(d, 0, 0, 0, IotlbMsg.RW)).isEqualTo(-Errno.EINVAL);
        assertThat(update(d, 0x1000, 0, 0x1000, IotlbMsg.RW)).isEqualTo(-Errno.EINVAL);
        assertThat(d.iotlb().size()).isZero();
    }

    private static VhostDevice device(VhostDevice.Config c) {
        VhostDevice d = new VhostDevice(2, c);
        assertThat(d.setFeatures(ACCESS_PLATFORM)).isZero();
        return d;
    }

    @Test
    void uaddrOverflowIsRejectedWithEfault() {
        VhostDevice d = device();
        assertThat(update(d, 0x1000, 0x1000, -0x800L, IotlbMsg.RW)).isEqualTo(-Errno.EFAULT);
        // From v5.14 (f7ad318ea0ad) uaddr + size == 2^64 exactly is accepted: vhost_overflow() wants uaddr <= ULONG_MAX - size + 1.
        assertThat(update(d, 0x1000, 0x1000, -0x1000L, IotlbMsg.RW)).isEqualTo(72);
        assertThat(update(d, 0x2000, 0x1000, -0x1001L, IotlbMsg.RW)).isEqualTo(72);
        assertThat(d.iotlb().size()).isEqualTo(2);
        // Before it (the 2019 era) the last byte of the address space may not be covered.
        VhostDevice old = device(VhostDevice.Config.v2019(2048));
        assertThat(update(old, 0x1000, 0x1000, -0x1000L, IotlbMsg.RW)).isEqualTo(-Errno.EFAULT);
        assertThat(update(old, 0x1000, 0x1000, -0x1001L, IotlbMsg.RW)).isEqualTo(72);
    }

    @Test
    void iovaPlusSizeOverflowIsRejected() {
        VhostDevice d = device();
        // iova + size - 1 wraps below iova: add_range refuses (-EFAULT, reported as -EFAULT by write).
        assertThat(update(d, -0x1000L, 0x2000, 0x1000, IotlbMsg.RW)).isEqualTo(-Errno.EFAULT);
        // Exactly reaching 2^64 - 1 is fine.
        assertThat(update(d, -0x1000L, 0x1000, 0x1000, IotlbMsg.RW)).isEqualTo(72);
        assertThat(d.iotlb().size()).isEqualTo(1);
    }

    /**
     * v5.1 to v5.6 (vhost_new_umem_range) checked only for an empty range: a wrapped one is stored, found by no lookup,
     * holds a FIFO slot (it is what the limit evicts first), and goes with an INVALIDATE that meets the overlap predicate.
     */
    @Test
    void the2019EraStoresAWrappedRangeWhereNoLookupFindsIt() {
        VhostDevice d = device(VhostDevice.Config.v2019(2));
        assertThat(update(d, -0x1000L, 0x2000, 0x5000, IotlbMsg.RW)).isEqualTo(72);
        assertThat(d.iotlb().size()).isEqualTo(1);
        assertThat(d.iotlb().lookup(-0x1000L)).isNull();
        assertThat(d.iotlb().lookup(0)).isNull();
        update(d, 0x1000, 0x1000, 0x6000, IotlbMsg.RW);
        update(d, 0x2000, 0x1000, 0x7000, IotlbMsg.RW);
        assertThat(d.iotlb().size()).as("the limit evicted the wrapped entry, the oldest").isEqualTo(2);
        assertThat(d.iotlb().entries()).noneMatch(e -> e.start() == -0x1000L);
        assertThat(update(d, -0x1000L, 0x2000, 0x5000, IotlbMsg.RW)).isEqualTo(72);
        // INVALIDATE [start, last] removes every entry with e.start <= last && start <= e.last. [2^64 - 0x1000, 0xfff] is
        // untouched by [2^64 - 0x1000, 2^64 - 1] (start > e.last) and removed by [0, 2^64 - 0x801].
        assertThat(invalidate(d, -0x1000L, 0x1000)).isEqualTo(72);
        assertThat(d.iotlb().entries()).anyMatch(e -> e.start() == -0x1000L);
        assertThat(invalidate(d, 0, -0x800L)).isEqualTo(72);
        assertThat(d.iotlb().entries()).noneMatch(e -> e.start() == -0x1000L);
    }

    @Test
    void invalidateSizeZeroFromIovaZeroRemovesEverything() {
        VhostDevice d = device();
        update(d, 0x1000, 0x1000, 0x1000, IotlbMsg.RW);
        update(d, -0x1000L, 0x1000, 0x2000, IotlbMsg.RW);
        assertThat(invalidate(d, 0, 0)).isEqualTo(72);
        assertThat(d.iotlb().size()).isZero();
    }

    @Test
    void invalidateSizeZeroWasRejectedIn2022Kernels() {
        VhostDevice d = new VhostDevice(2, VhostDevice.Config.v2022(2048));
        d.setFeatures(ACCESS_PLATFORM);
        update(d, 0x1000, 0x1000, 0x1000, IotlbMsg.RW);
        assertThat(invalidate(d, 0, 0)).isEqualTo(-Errno.EINVAL);
        assertThat(d.iotlb().size()).isEqualTo(1);
    }

    @Test
    void invalidateRemovesOverlappingEntriesWhole() {
        VhostDevice d = device();
        update(d, 0x0000, 0x4000, 0x1000_0000, IotlbMsg.RW);
        update(d, 0x8000, 0x1000, 0x2000_0000, IotlbMsg.RW);
        assertThat(invalidate(d, 0x3000, 0x1000)).isEqualTo(72);
        assertThat(d.iotlb().entries()).extracting(VhostIotlb.Entry::start).containsExactly(0x8000L);
    }

    @Test
    void pre2022SizeZeroUpdateAtIovaZeroHangsThePrefetchLoop() {
        VhostDevice d = new VhostDevice(1, VhostDevice.Config.pre2022(2048));
        d.setFeatures(ACCESS_PLATFORM);
        assertThat(d.writeMsg(IotlbMsg.update(0, 0, 0, IotlbMsg.RW))).isEqualTo(72);
        assertThat(d.iotlb().entries()).containsExactly(new VhostIotlb.Entry(0, -1L, 0, IotlbMsg.RW));
        assertThat(d.accessOk(0, 0, 64, IotlbMsg.RO)).isEqualTo(-Errno.EHUNG_MODEL);
        // translate_desc makes no progress either, but is bounded by the iovec array.
        VhostDevice.Segments out = new VhostDevice.Segments();
        assertThat(d.translate(0, 0, 64, IotlbMsg.RO, out, 16)).isEqualTo(-Errno.ENOBUFS);
        // Away from address 0 the overflowed entry still translates.
        assertThat(d.accessOk(0, 0x1000, 64, IotlbMsg.RO)).isZero();
        // The same message on a current kernel is refused.
        assertThat(device().writeMsg(IotlbMsg.update(0, 0, 0, IotlbMsg.RW))).isEqualTo(-Errno.EINVAL);
    }

    @Test
    void messagesUserspaceMayNotWriteAreEfault() {
        VhostDevice d = device();
        for (int t : new int[] {IotlbMsg.MISS, IotlbMsg.ACCESS_FAIL, IotlbMsg.BATCH_BEGIN, IotlbMsg.BATCH_END}) {
            byte[] f = VhostMsgCodec.encodeV2(new IotlbMsg(0x1000, 0x1000, 0x1000, IotlbMsg.RW, t), 0);
            assertThat(d.writeFrame(f)).as(IotlbMsg.typeName(t)).isEqualTo(-Errno.EFAULT);
        }
        assertThat(d.iotlb().size()).isZero();
    }

    @Test
    void malformedWritesReturnErrnoWithoutSideEffects() {
        VhostDevice d = device();
        assertThat(d.writeFrame(new byte[0])).isEqualTo(-Errno.EINVAL);
        assertThat(d.writeFrame(new byte[10])).isEqualTo(-Errno.EINVAL); // header type 0
        assertThat(d.writeFrame(null)).isEqualTo(-Errno.EFAULT);
        byte[] f = VhostMsgCodec.encodeV1(IotlbMsg.update(0x1000, 0x1000, 0x1000, IotlbMsg.RW));
        assertThat(d.write(f, 39)).isEqualTo(-Errno.EINVAL);
        f[VhostMsgCodec.OFF_MSG_TYPE] = 9;
        assertThat(d.writeFrame(f)).isEqualTo(-Errno.EFAULT);
        assertThat(d.iotlb().size()).isZero();
    }

    @Test
    void writesWithoutIotlbAreEfault() {
        VhostDevice d = new VhostDevice(2, 2048);
        assertThat(update(d, 0x1000, 0x1000, 0x1000, IotlbMsg.RW)).isEqualTo(-Errno.EFAULT);
        assertThat(invalidate(d, 0x1000, 0x1000)).isEqualTo(-Errno.EFAULT);
        assertThat(d.translate(RX, 0x1000, 1, IotlbMsg.RO)).isEqualTo(new VhostDevice.TranslateResult.Failed(-Errno.EFAULT));
    }

    @Test
    void setFeaturesWithAccessPlatformResetsTheIotlb() {
        VhostDevice d = device();
        update(d, 0x1000, 0x1000, 0x1000, IotlbMsg.RW);
        VhostIotlb before = d.iotlb();
        assertThat(before.size()).isEqualTo(1);
        d.setFeatures(ACCESS_PLATFORM);
        assertThat(d.iotlb()).isNotSameAs(before);
        assertThat(d.iotlb().size()).isZero();
        assertThat(d.iotlb().limit()).isEqualTo(2048);
    }

    @Test
    void setFeaturesWithoutAccessPlatformKeepsTheIotlbAndMessagesSurvive() {
        VhostDevice d = device();
        update(d, 0x1000, 0x1000, 0x1000, IotlbMsg.RW);
        d.translate(RX, 0x9000, 1, IotlbMsg.RO);
        d.setFeatures(0);
        assertThat(d.iotlb().size()).isEqualTo(1); // vhost_net_set_features only acts when the bit is set
        d.setFeatures(ACCESS_PLATFORM);
        assertThat(d.readList()).hasSize(1); // not cleared by SET_FEATURES
        d.cleanup();
        assertThat(d.iotlb()).isNull();
        assertThat(d.readList()).isEmpty();
    }

    @Test
    void backendFeaturesChooseTheFrameVersion() {
        VhostDevice d = device();
        assertThat(d.setBackendFeatures(1L << VhostDevice.VHOST_BACKEND_F_IOTLB_BATCH)).isEqualTo(-Errno.EOPNOTSUPP);
        assertThat(d.setBackendFeatures(1L << VhostDevice.VHOST_BACKEND_F_IOTLB_ASID)).isEqualTo(-Errno.EOPNOTSUPP);
        d.translate(RX, 0x1000, 1, IotlbMsg.RO);
        assertThat(d.readFrame()[0]).isEqualTo((byte) VhostMsgCodec.VHOST_IOTLB_MSG);
        assertThat(d.setBackendFeatures(VhostDevice.VHOST_NET_BACKEND_FEATURES)).isZero();
        d.translate(RX, 0x1000, 1, IotlbMsg.RO);
        byte[] f = d.readFrame();
        assertThat(f[0]).isEqualTo((byte) VhostMsgCodec.VHOST_IOTLB_MSG_V2);
        assertThat(((VhostMsgCodec.DecodeResult.Ok) VhostMsgCodec.decode(f)).version()).isEqualTo(2);
        // Both frame versions are accepted on write whatever was negotiated.
        assertThat(d.writeFrame(VhostMsgCodec.encodeV1(IotlbMsg.update(0x1000, 0x1000, 0, IotlbMsg.RO)))).isEqualTo(72);
        assertThat(d.writeFrame(VhostMsgCodec.encodeV2(IotlbMsg.update(0x2000, 0x1000, 0, IotlbMsg.RO), 9))).isEqualTo(72);
    }

    @Test
    void readIntoShortBufferReturnsZeroAndConsumesNothing() {
        VhostDevice d = device();
        byte[] small = new byte[71];
        assertThat(d.read(small)).isZero(); // too small: checked before the list
        byte[] big = new byte[72];
        assertThat(d.read(big)).isEqualTo(-Errno.EAGAIN);
        d.translate(RX, 0x1000, 1, IotlbMsg.RO);
        assertThat(d.read(small)).isZero();
        assertThat(d.readList()).hasSize(1);
        assertThat(d.read(big)).isEqualTo(72);
        assertThat(decodeOk(big).iova()).isEqualTo(0x1000);
    }

    @Test
    void fifoEvictionThroughTheDevice() {
        VhostDevice d = new VhostDevice(1, 4);
        d.setFeatures(ACCESS_PLATFORM);
        for (int i = 0; i < 5; i++) update(d, i * 0x1000L, 0x1000, 0x100000L * i, IotlbMsg.RW);
        assertThat(d.translate(0, 0, 1, IotlbMsg.RO)).isInstanceOf(VhostDevice.TranslateResult.Miss.class);
        assertThat(d.translate(0, 0x1000, 1, IotlbMsg.RO)).isInstanceOf(VhostDevice.TranslateResult.Mapped.class);
    }

    @Test
    void savedStateAndCopyTrackBehaviouralState() {
        VhostDevice a = device();
        update(a, 0x1000, 0x1000, 0x1000, IotlbMsg.RW);
        VhostDevice b = a.copy();
        assertThat(States.of(b)).isEqualTo(States.of(a));
        b.translate(RX, 0x5000, 1, IotlbMsg.RO);
        assertThat(States.of(b)).isNotEqualTo(States.of(a));
        assertThat(a.readList()).isEmpty();
        b.readFrame();
        VhostDevice c = b.copy();
        assertThat(States.of(c)).isEqualTo(States.of(b));
        update(c, 0x5000, 0x1000, 0x1000, IotlbMsg.RW);
        assertThat(drain(c)).containsExactly(RX);
        assertThat(b.pendingList()).hasSize(1);
        // Restored into a fresh device, b answers the same UPDATE the same way.
        VhostDevice r = States.copyInto(b, device());
        update(r, 0x5000, 0x1000, 0x1000, IotlbMsg.RW);
        assertThat(drain(r)).containsExactly(RX);
        assertThat(r.pendingList()).isEmpty();
    }
}
