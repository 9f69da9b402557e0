package tcesim.vhost;

/**
 * Models {@code struct vhost_iotlb_msg} from include/uapi/linux/vhost_types.h:
 * {@code {__u64 iova; __u64 size; __u64 uaddr; __u8 perm; __u8 type;}}.
 *
 * <p>The 64-bit fields are unsigned in the kernel; here they are Java {@code long}s holding the
 * same bit patterns (compare them with {@link Long#compareUnsigned}). {@code perm} and
 * {@code type} are {@code __u8}, held as ints in 0..255.
 *
 * <p>Constants, checked against include/uapi/linux/vhost_types.h (torvalds/linux):
 * VHOST_ACCESS_RO 0x1, VHOST_ACCESS_WO 0x2, VHOST_ACCESS_RW 0x3; VHOST_IOTLB_MISS 1,
 * VHOST_IOTLB_UPDATE 2, VHOST_IOTLB_INVALIDATE 3, VHOST_IOTLB_ACCESS_FAIL 4,
 * VHOST_IOTLB_BATCH_BEGIN 5, VHOST_IOTLB_BATCH_END 6. The header's comment says that for
 * BATCH_BEGIN/BATCH_END "the rest of the fields in the message are ignored".
 */
public record IotlbMsg(long iova, long size, long uaddr, int perm, int type) {

    /** VHOST_IOTLB_MISS: sent by the kernel to userspace when a translation is missing. */
    public static final int MISS = 1;
    /** VHOST_IOTLB_UPDATE: userspace adds a translation. */
    public static final int UPDATE = 2;
    /** VHOST_IOTLB_INVALIDATE: userspace removes translations overlapping a range. */
    public static final int INVALIDATE = 3;
    /** VHOST_IOTLB_ACCESS_FAIL: defined in the uapi; drivers/vhost/vhost.c never sends nor accepts it. */
    public static final int ACCESS_FAIL = 4;
    /** VHOST_IOTLB_BATCH_BEGIN: a batching hint, only handled by vhost-vdpa's msg_handler. */
    public static final int BATCH_BEGIN = 5;
    /** VHOST_IOTLB_BATCH_END: see {@link #BATCH_BEGIN}. */
    public static final int BATCH_END = 6;

    /** VHOST_ACCESS_RO. */
    public static final int RO = 0x1;
    /** VHOST_ACCESS_WO. */
    public static final int WO = 0x2;
    /** VHOST_ACCESS_RW. */
    public static final int RW = 0x3;

    public IotlbMsg {
        if ((perm & ~0xFF) != 0) throw new IllegalArgumentException("perm is a __u8: " + perm);
        if ((type & ~0xFF) != 0) throw new IllegalArgumentException("type is a __u8: " + type);
    }

    /** A MISS as vhost_iotlb_miss() builds it: iova and perm set, size and uaddr left 0. */
    public static IotlbMsg miss(long iova, int access) {
        return new IotlbMsg(iova, 0, 0, access, MISS);
    }

    public static IotlbMsg update(long iova, long size, long uaddr, int perm) {
        return new IotlbMsg(iova, size, uaddr, perm, UPDATE);
    }

    public static IotlbMsg invalidate(long iova, long size) {
        return new IotlbMsg(iova, size, 0, 0, INVALIDATE);
    }

    /** The kernel's {@code iova + size - 1} (wrapping 64-bit arithmetic, as in C on u64). */
    public long last() {
        return iova + size - 1;
    }

    /** Whether {@code type} is one of the six values defined by the uapi header. */
    public static boolean isKnownType(int type) {
        return type >= MISS && type <= BATCH_END;
    }

    public static String typeName(int type) {
        switch (type) {
            case MISS: return "MISS";
            case UPDATE: return "UPDATE";
            case INVALIDATE: return "INVALIDATE";
            case ACCESS_FAIL: return "ACCESS_FAIL";
            case BATCH_BEGIN: return "BATCH_BEGIN";
            case BATCH_END: return "BATCH_END";
            default: return "type " + type;
        }
    }

    @Override
    public String toString() {
        return typeName(type) + "{iova=0x" + Long.toHexString(iova) + ", size=0x" + Long.toHexString(size)
                + ", uaddr=0x" + Long.toHexString(uaddr) + ", perm=" + perm + "}";
    }
}
