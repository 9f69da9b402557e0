package tcesim.vhost;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VhostMsgCodecTest {

    /** Hand-built little-endian frame, independent of the codec's own layout constants. */
    private static byte[] handFrame(int headerType, int asid, long iova, long size, long uaddr, int perm, int type) {
        byte[] b = new byte[72];
        putLe(b, 0, headerType, 4);
        putLe(b, 4, asid, 4);
        putLe(b, 8, iova, 8);
        putLe(b, 16, size, 8);
        putLe(b, 24, uaddr, 8);
        b[32] = (byte) perm;
        b[33] = (byte) type;
        return b;
    }

    private static void putLe(byte[] b, int off, long v, int n) {
        for (int i = 0; i < n; i++) b[off + i] = (byte) (v >>> (8 * i));
    }

    @Test
    void v1EncodingIsByteExact() {
        IotlbMsg m = IotlbMsg.update(0x0102030405060708L, 0x1000, 0x8877665544332211L, IotlbMsg.RW);
        byte[] f = VhostMsgCodec.encodeV1(m);
        assertThat(f).hasSize(72);
        assertThat(f).isEqualTo(handFrame(1, 0, 0x0102030405060708L, 0x1000, 0x8877665544332211L, 3, 2));
        // spot-check little-endian placement by hand
        assertThat(f[0]).isEqualTo((byte) 1);
        assertThat(f[8]).isEqualTo((byte) 0x08);
        assertThat(f[15]).isEqualTo((byte) 0x01);
        assertThat(f[16]).isEqualTo((byte) 0x00);
        assertThat(f[17]).isEqualTo((byte) 0x10);
        assertThat(f[24]).isEqualTo((byte) 0x11);
        assertThat(f[31]).isEqualTo((byte) 0x88);
        assertThat(f[32]).isEqualTo((byte) 3);
        assertThat(f[33]).isEqualTo((byte) 2);
        for (int i = 34; i < 72; i++) assertThat(f[i]).as("padding byte %d", i).isZero();
        for (int i = 4; i < 8; i++) assertThat(f[i]).as("hole byte %d", i).isZero();
    }

    @Test
    void v2EncodingIsByteExactWithAsid() {
        IotlbMsg m = IotlbMsg.miss(0xFFFF_FFFF_FFFF_F000L, IotlbMsg.WO);
        byte[] f = VhostMsgCodec.encodeV2(m, 0x0A0B0C0D);
        assertThat(f).isEqualTo(handFrame(2, 0x0A0B0C0D, 0xFFFF_FFFF_FFFF_F000L, 0, 0, 2, 1));
        assertThat(f[4]).isEqualTo((byte) 0x0D);
        assertThat(f[7]).isEqualTo((byte) 0x0A);
    }

    @Test
    void roundTripV1AndV2() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 200; i++) {
            IotlbMsg m = new IotlbMsg(rnd.nextLong(), rnd.nextLong(), rnd.nextLong(), rnd.nextInt(256), 1 + rnd.nextInt(6));
            VhostMsgCodec.DecodeResult r1 = VhostMsgCodec.decode(VhostMsgCodec.encodeV1(m));
            assertThat(r1).isEqualTo(new VhostMsgCodec.DecodeResult.Ok(1, 0, m));
            int asid = rnd.nextInt();
            VhostMsgCodec.DecodeResult r2 = VhostMsgCodec.decode(VhostMsgCodec.encodeV2(m, asid));
            assertThat(r2).isEqualTo(new VhostMsgCodec.DecodeResult.Ok(2, asid, m));
        }
    }

    @Test
    void decodeReadsHandBuiltFrames() {
        byte[] f = handFrame(1, 0xDEAD, 0x1234, 0x2000, 0xABCD000, 1, 3);
        // v1 hole bytes are ignored, whatever they hold
        assertThat(VhostMsgCodec.decode(f)).isEqualTo(
                new VhostMsgCodec.DecodeResult.Ok(1, 0, new IotlbMsg(0x1234, 0x2000, 0xABCD000, 1, 3)));
    }

    private static VhostMsgCodec.Reason reason(VhostMsgCodec.DecodeResult r) {
        assertThat(r).isInstanceOf(VhostMsgCodec.DecodeResult.Err.class);
        return ((VhostMsgCodec.DecodeResult.Err) r).reason();
    }

    @Test
    void shortAndEmptyFramesAreErrors() {
        byte[] full = VhostMsgCodec.encodeV1(IotlbMsg.invalidate(0, 0x1000));
        assertThat(reason(VhostMsgCodec.decode(new byte[0]))).isEqualTo(VhostMsgCodec.Reason.SHORT_FRAME);
        assertThat(reason(VhostMsgCodec.decode(full, 3, false))).isEqualTo(VhostMsgCodec.Reason.SHORT_FRAME);
        assertThat(reason(VhostMsgCodec.decode(full, 39, false))).isEqualTo(VhostMsgCodec.Reason.SHORT_FRAME);
        assertThat(((VhostMsgCodec.DecodeResult.Err) VhostMsgCodec.decode(full, 39, false)).errno())
                .isEqualTo(-Errno.EINVAL);
        // The kernel only copies header + sizeof(struct vhost_iotlb_msg) = 40 bytes.
        assertThat(VhostMsgCodec.decode(full, 40, false)).isInstanceOf(VhostMsgCodec.DecodeResult.Ok.class);
    }

    @Test
    void badBuffersAreErrorsNotExceptions() {
        assertThat(reason(VhostMsgCodec.decode(null))).isEqualTo(VhostMsgCodec.Reason.BAD_BUFFER);
        assertThat(reason(VhostMsgCodec.decode(new byte[72], 73, false))).isEqualTo(VhostMsgCodec.Reason.BAD_BUFFER);
        assertThat(reason(VhostMsgCodec.decode(new byte[72], -1, false))).isEqualTo(VhostMsgCodec.Reason.BAD_BUFFER);
    }

    @Test
    void wrongHeaderTypeIsEinval() {
        for (int h : new int[] {0, 3, -1, 0x100}) {
            byte[] f = handFrame(h, 0, 0, 0x1000, 0, 3, 2);
            VhostMsgCodec.DecodeResult r = VhostMsgCodec.decode(f);
            assertThat(reason(r)).as("header %d", h).isEqualTo(VhostMsgCodec.Reason.BAD_HEADER_TYPE);
            assertThat(((VhostMsgCodec.DecodeResult.Err) r).errno()).isEqualTo(-Errno.EINVAL);
        }
    }

    @Test
    void unknownIotlbTypeIsEfault() {
        for (int t : new int[] {0, 7, 255}) {
            VhostMsgCodec.DecodeResult r = VhostMsgCodec.decode(handFrame(2, 0, 0, 0x1000, 0, 3, t));
            assertThat(reason(r)).isEqualTo(VhostMsgCodec.Reason.UNKNOWN_IOTLB_TYPE);
            assertThat(((VhostMsgCodec.DecodeResult.Err) r).errno()).isEqualTo(-Errno.EFAULT);
        }
    }

    @Test
    void nonzeroAsidOnlyRejectedWhenAsidNegotiated() {
        byte[] f = handFrame(2, 5, 0, 0x1000, 0, 3, 2);
        assertThat(VhostMsgCodec.decode(f, 72, false)).isInstanceOf(VhostMsgCodec.DecodeResult.Ok.class);
        assertThat(reason(VhostMsgCodec.decode(f, 72, true))).isEqualTo(VhostMsgCodec.Reason.NONZERO_ASID);
        assertThat(VhostMsgCodec.decode(handFrame(2, 0, 0, 0x1000, 0, 3, 2), 72, true))
                .isInstanceOf(VhostMsgCodec.DecodeResult.Ok.class);
    }

    @Test
    void garbageNeverThrows() {
        SplittableRandom rnd = new SplittableRandom(12345);
        for (int i = 0; i < 5000; i++) {
            byte[] b = new byte[rnd.nextInt(100)];
            for (int k = 0; k < b.length; k++) b[k] = (byte) rnd.nextInt(256);
            if (b.length >= 4 && rnd.nextBoolean()) { // a valid header, to reach the deeper checks
                b[0] = (byte) (1 + rnd.nextInt(2));
                b[1] = 0;
                b[2] = 0;
                b[3] = 0;
            }
            int len = rnd.nextInt(b.length + 3) - 1;
            VhostMsgCodec.DecodeResult r = VhostMsgCodec.decode(b, len, rnd.nextBoolean());
            assertThat(r).isNotNull();
        }
    }
}
