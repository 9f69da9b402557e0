package tcesim.vhost;

/**
 * The vhost device's file descriptor as its users see it: read() of a queued message, write() of an IOTLB message,
 * poll() for readability ({@code vhost_chr_read_iter}, {@code vhost_chr_write_iter}, {@code vhost_chr_poll},
 * drivers/vhost/vhost.c). A write sleeps on the device's mutexes while a virtqueue handler runs; who waits is the
 * writer's business, so an implementation may hold a write back until the mutexes are free.
 */
public interface VhostFd {
    /** read() into {@code dst}: 72, 0 for a short buffer, or -EAGAIN when nothing is queued. */
    long read(byte[] dst);

    /** write() of a whole frame: 72 or a negative errno. */
    long writeFrame(byte[] frame);

    /** poll(): a message is queued for reading. */
    boolean readable();
}
