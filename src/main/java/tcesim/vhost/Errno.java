package tcesim.vhost;

/**
 * Models the Linux errno values that the vhost character device and its ioctls return
 * (negated, as the kernel returns them from read()/write()/ioctl handlers).
 *
 * <p>Values are the generic ones from include/uapi/asm-generic/errno-base.h and
 * include/uapi/asm-generic/errno.h, which powerpc uses (arch/powerpc/include/uapi/asm/errno.h
 * only overrides EDEADLOCK). Every constant here is the positive number; the model's
 * APIs return {@code -Errno.X} like the kernel does.
 */
public final class Errno {
    private Errno() {}

    public static final int EPERM = 1;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EFAULT = 14;
    public static final int EINVAL = 22;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOBUFS = 105;

    /**
     * Not a kernel errno: a marker this model returns where the real translate loop
     * (translate_desc / iotlb_access_ok in drivers/vhost/vhost.c) would spin forever on an
     * entry whose 64-bit size overflowed to 0. Upstream commit e2ae38cf3d91 ("vhost: fix hung
     * thread due to erroneous iotlb entries", v5.17, 2022) removed that possibility; the model
     * only produces it when configured like the kernels before that fix.
     */
    public static final int EHUNG_MODEL = 100_000;

    /** Symbolic name of a (positive or negative) errno, for messages and reports. */
    public static String name(long errno) {
        long e = Math.abs(errno);
        if (e == EPERM) return "EPERM";
        if (e == EAGAIN) return "EAGAIN";
        if (e == ENOMEM) return "ENOMEM";
        if (e == EFAULT) return "EFAULT";
        if (e == EINVAL) return "EINVAL";
        if (e == EOPNOTSUPP) return "EOPNOTSUPP";
        if (e == ENOBUFS) return "ENOBUFS";
        if (e == EHUNG_MODEL) return "EHUNG_MODEL";
        return "errno " + e;
    }
}
