package tcesim.vhost;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Models the byte framing of the vhost device-IOTLB messages exchanged over the vhost fd:
 * {@code struct vhost_msg} and {@code struct vhost_msg_v2} from include/uapi/linux/vhost_types.h,
 * as written by userspace (vhost_chr_write_iter) and read from the kernel (vhost_chr_read_iter)
 * in drivers/vhost/vhost.c.
 *
 * <p>Byte order: the host is a ppc64le PowerNV machine, so every multi-byte field is
 * little-endian (the structs are native-endian C structs copied as raw bytes).
 *
 * <p>Layout (offsets in bytes), derived from the uapi header:
 * <pre>
 *   vhost_msg    (VHOST_IOTLB_MSG    = 0x1): int type @0, 4-byte hole @4 (the union holds u64s,
 *                                            so it is 8-aligned), union @8 (64 bytes) = 72 bytes
 *   vhost_msg_v2 (VHOST_IOTLB_MSG_V2 = 0x2): u32 type @0, u32 asid @4, union @8 (64 bytes)       = 72 bytes
 *   vhost_iotlb_msg inside the union: u64 iova @0, u64 size @8, u64 uaddr @16, u8 perm @24,
 *                                     u8 type @25, 6 padding bytes -> sizeof = 32
 * </pre>
 *
 * <p>Decoding follows what vhost_chr_write_iter() (drivers/vhost/vhost.c) accepts, which is
 * looser than "exactly 72 bytes": it copies a 4-byte type, skips to offset 8, then copies
 * {@code sizeof(struct vhost_iotlb_msg)} = 32 bytes. So any write of at least
 * {@link #MIN_WRITE_LEN} = 40 bytes decodes, bytes 40..71 (union padding) and anything beyond
 * are ignored, and the write still returns sizeof(struct vhost_msg) = 72. Shorter writes get
 * -EINVAL; an unknown header type gets -EINVAL. In v2 frames the asid is only read when
 * VHOST_BACKEND_F_IOTLB_ASID was negotiated (otherwise the 4 bytes are skipped, i.e. ignored);
 * when it is read, vhost_process_iotlb_msg() rejects asid != 0 with -EINVAL, which
 * vhost_chr_write_iter() turns into -EFAULT (newer kernels; source: vhost.c
 * vhost_chr_write_iter/vhost_process_iotlb_msg with the asid argument).
 *
 * <p>Nothing here throws on malformed input: {@link #decode} returns a {@link DecodeResult.Err}
 * carrying the errno the kernel's write() would return at that point.
 */
public final class VhostMsgCodec {
    private VhostMsgCodec() {}

    /** VHOST_IOTLB_MSG header type (vhost_types.h). */
    public static final int VHOST_IOTLB_MSG = 0x1;
    /** VHOST_IOTLB_MSG_V2 header type (vhost_types.h). */
    public static final int VHOST_IOTLB_MSG_V2 = 0x2;

    /** sizeof(struct vhost_msg) == sizeof(struct vhost_msg_v2) == 72. */
    public static final int FRAME_SIZE = 72;
    /** Offset of the union (and so of the vhost_iotlb_msg) in both frame versions. */
    public static final int OFF_IOTLB = 8;
    /** sizeof(struct vhost_iotlb_msg): 3 x u64 + 2 x u8, padded to the u64 alignment. */
    public static final int IOTLB_MSG_SIZE = 32;
    /** The fewest bytes vhost_chr_write_iter() accepts: 8 (header) + 32. */
    public static final int MIN_WRITE_LEN = OFF_IOTLB + IOTLB_MSG_SIZE;

    public static final int OFF_TYPE = 0;
    public static final int OFF_ASID = 4;
    public static final int OFF_IOVA = OFF_IOTLB;
    public static final int OFF_SIZE = OFF_IOTLB + 8;
    public static final int OFF_UADDR = OFF_IOTLB + 16;
    public static final int OFF_PERM = OFF_IOTLB + 24;
    public static final int OFF_MSG_TYPE = OFF_IOTLB + 25;

    private static final VarHandle LE_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE_INT =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    /** Why a frame was rejected; each reason maps to the errno the kernel's write() returns. */
    public enum Reason {
        /** Fewer bytes than the header type (4) or than header + vhost_iotlb_msg (40): -EINVAL. */
        SHORT_FRAME(Errno.EINVAL),
        /** Header type neither VHOST_IOTLB_MSG nor VHOST_IOTLB_MSG_V2: -EINVAL. */
        BAD_HEADER_TYPE(Errno.EINVAL),
        /**
         * vhost_iotlb_msg.type outside 1..6. The kernel decodes it, then
         * vhost_process_iotlb_msg() says -EINVAL and vhost_chr_write_iter() reports -EFAULT.
         */
        UNKNOWN_IOTLB_TYPE(Errno.EFAULT),
        /** v2 asid != 0 with VHOST_BACKEND_F_IOTLB_ASID negotiated: -EINVAL, reported as -EFAULT. */
        NONZERO_ASID(Errno.EFAULT),
        /** The (buffer, length) pair does not describe readable memory (null, negative, past the end): -EFAULT. */
        BAD_BUFFER(Errno.EFAULT);

        private final int errno;

        Reason(int errno) {
            this.errno = errno;
        }

        /** Positive errno. */
        public int errno() {
            return errno;
        }
    }

    /** Result of decoding a frame: either {@link Ok} or {@link Err}. */
    public sealed interface DecodeResult permits DecodeResult.Ok, DecodeResult.Err {
        /**
         * A decoded frame. {@code asid} is the raw 32-bit value at offset 4 of a v2 frame (0 for v1);
         * the kernel only looks at it when the ASID backend feature is negotiated.
         */
        record Ok(int version, int asid, IotlbMsg msg) implements DecodeResult {}

        /** A rejected frame. {@link #errno()} is negative, as write() would return it. */
        record Err(Reason reason, String detail) implements DecodeResult {
            public long errno() {
                return -reason.errno();
            }
        }
    }

    // ------------------------------------------------------------------ encode

    /** Encodes a v1 frame ({@code struct vhost_msg}): 72 bytes, hole and padding zero. */
    public static byte[] encodeV1(IotlbMsg msg) {
        byte[] b = new byte[FRAME_SIZE];
        encodeInto(b, 0, VHOST_IOTLB_MSG, 0, msg);
        return b;
    }

    /** Encodes a v2 frame ({@code struct vhost_msg_v2}) with the given asid. */
    public static byte[] encodeV2(IotlbMsg msg, int asid) {
        byte[] b = new byte[FRAME_SIZE];
        encodeInto(b, 0, VHOST_IOTLB_MSG_V2, asid, msg);
        return b;
    }

    /** Encodes a frame of the given header version (1 or 2); {@code asid} is ignored for v1. */
    public static byte[] encode(int version, int asid, IotlbMsg msg) {
        byte[] b = new byte[FRAME_SIZE];
        encodeInto(b, 0, version, asid, msg);
        return b;
    }

    /**
     * Writes a 72-byte frame at {@code dst[off..off+72)}, zeroing the hole and padding like
     * vhost_new_msg() does ("Make sure all padding within the structure is initialized").
     */
    public static void encodeInto(byte[] dst, int off, int version, int asid, IotlbMsg msg) {
        if (version != VHOST_IOTLB_MSG && version != VHOST_IOTLB_MSG_V2) {
            throw new IllegalArgumentException("frame version must be 1 or 2: " + version);
        }
        java.util.Arrays.fill(dst, off, off + FRAME_SIZE, (byte) 0);
        LE_INT.set(dst, off + OFF_TYPE, version);
        if (version == VHOST_IOTLB_MSG_V2) {
            LE_INT.set(dst, off + OFF_ASID, asid);
        }
        LE_LONG.set(dst, off + OFF_IOVA, msg.iova());
        LE_LONG.set(dst, off + OFF_SIZE, msg.size());
        LE_LONG.set(dst, off + OFF_UADDR, msg.uaddr());
        dst[off + OFF_PERM] = (byte) msg.perm();
        dst[off + OFF_MSG_TYPE] = (byte) msg.type();
    }

    // ------------------------------------------------------------------ decode

    /** Decodes a whole array as one write(), the ASID feature not negotiated (vhost-net's case). */
    public static DecodeResult decode(byte[] frame) {
        return decode(frame, frame == null ? 0 : frame.length, false);
    }

    /**
     * Decodes the first {@code len} bytes of {@code buf} as vhost_chr_write_iter() would.
     *
     * @param asidNegotiated whether VHOST_BACKEND_F_IOTLB_ASID was acked; only then is a v2
     *                       frame's asid read (and a nonzero one rejected)
     */
    public static DecodeResult decode(byte[] buf, int len, boolean asidNegotiated) {
        if (buf == null || len < 0 || len > buf.length) {
            return new DecodeResult.Err(Reason.BAD_BUFFER,
                    "buffer " + (buf == null ? "null" : buf.length + " bytes") + ", len " + len);
        }
        // vhost_chr_write_iter: copy_from_iter(&type, sizeof(int)) != sizeof(int) -> -EINVAL
        if (len < 4) {
            return new DecodeResult.Err(Reason.SHORT_FRAME, len + " bytes, header type needs 4");
        }
        int version = (int) LE_INT.get(buf, OFF_TYPE);
        if (version != VHOST_IOTLB_MSG && version != VHOST_IOTLB_MSG_V2) {
            return new DecodeResult.Err(Reason.BAD_HEADER_TYPE, "header type " + version);
        }
        // v1: skip the hole; v2 without ASID: skip the asid; v2 with ASID: read it. The union is at 8.
        if (len < MIN_WRITE_LEN) {
            return new DecodeResult.Err(Reason.SHORT_FRAME,
                    len + " bytes, header + vhost_iotlb_msg needs " + MIN_WRITE_LEN);
        }
        int asid = version == VHOST_IOTLB_MSG_V2 ? (int) LE_INT.get(buf, OFF_ASID) : 0;
        long iova = (long) LE_LONG.get(buf, OFF_IOVA);
        long size = (long) LE_LONG.get(buf, OFF_SIZE);
        long uaddr = (long) LE_LONG.get(buf, OFF_UADDR);
        int perm = buf[OFF_PERM] & 0xFF;
        int type = buf[OFF_MSG_TYPE] & 0xFF;
        if (!IotlbMsg.isKnownType(type)) {
            return new DecodeResult.Err(Reason.UNKNOWN_IOTLB_TYPE, "vhost_iotlb_msg.type " + type);
        }
        if (asidNegotiated && version == VHOST_IOTLB_MSG_V2 && asid != 0) {
            // vhost_process_iotlb_msg(): "if (asid != 0) return -EINVAL;" (single address space)
            return new DecodeResult.Err(Reason.NONZERO_ASID, "asid " + Integer.toUnsignedString(asid));
        }
        return new DecodeResult.Ok(version, asid, new IotlbMsg(iova, size, uaddr, perm, type));
    }
}
