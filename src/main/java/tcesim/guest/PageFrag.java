package tcesim.guest;

/**
 * A page-fragment allocator: buffers cut one after the other from a page, as Linux's {@code skb_page_frag_refill}
 * (net/core/sock.c) serves virtio-net's receive buffers ({@code rq->alloc_frag}) and a sender's socket data
 * ({@code sk_page_frag}).
 *
 * <p>Rules (net/core/sock.c {@code skb_page_frag_refill}, drivers/net/virtio_net.c {@code add_recvbuf_mergeable},
 * v5.4):
 * <ul>
 * <li>The allocator holds one reference to its current page; every fragment it hands out takes another
 *     ({@code get_page}), dropped when the fragment's user is done with it.
 * <li>On a refill: when the current page's count is 1 (every fragment of it is done), the page is reused in
 *     place from offset 0; else, when the fragment fits after the offset, it goes there; else the allocator drops
 *     its reference ({@code put_page}) and takes a new page. The new page is of order
 *     {@code SKB_FRAG_PAGE_ORDER = get_order(32768)}: one 64 KiB page on a ppc64 kernel with 64 KiB pages (order 0),
 *     an order-3 32 KiB page with 4 KiB pages. The model takes one guest page either way: with 4 KiB pages a frag
 *     holds two 1536-byte buffers instead of twenty-one (a simplification recorded in docs/fidelity.md).
 * <li>virtio-net's "hole" rule: when what is left of the page after a buffer is smaller than the next buffer
 *     would be, the buffer takes the rest of the page ({@code if (hole < len + room) { len += hole; ... }}), so a
 *     64 KiB page holds 42 buffers of 1536 bytes, the last one 2560 bytes long.
 * </ul>
 */
public final class PageFrag implements tcesim.state.Snapshot {
    /** A fragment: where it is and how long it is. */
    public record Frag(long page, long gpa, int len) {}

    private final PageAllocator pages;
    private final PageUse use;
    private final boolean takeHole;
    private long page = PageAllocator.NO_PAGE;
    private int offset;

    /**
     * @param use what the pages are tagged as
     * @param takeHole the last fragment of a page takes the rest of it (virtio-net's receive buffers)
     */
    public PageFrag(PageAllocator pages, PageUse use, boolean takeHole) {
        this.pages = pages;
        this.use = use;
        this.takeHole = takeHole;
    }

    /** The page fragments are cut from, or {@link PageAllocator#NO_PAGE}. */
    public long page() { return page; }
    public int offset() { return offset; }

    /**
     * A fragment of {@code len} bytes (at most a page), with a reference to its page for the caller; null when no page
     * could be allocated.
     */
    public Frag alloc(int cpu, int len) {
        int size = pages.pageSize();
        if (len > size) throw new IllegalArgumentException("fragment of " + len + " bytes on " + size + "-byte pages");
        if (page != PageAllocator.NO_PAGE) {
            if (pages.refCount(page) == 1) {
                offset = 0;
            } else if (offset + len > size) {
                pages.put(page, cpu);
                page = PageAllocator.NO_PAGE;
            }
        }
        if (page == PageAllocator.NO_PAGE) {
            page = pages.alloc(cpu, use);
            if (page == PageAllocator.NO_PAGE) return null;
            offset = 0;
        }
        int at = offset;
        offset += len;
        int hole = size - offset;
        if (takeHole && hole < len) {
            len += hole;
            offset += hole;
        }
        pages.get(page);
        return new Frag(page, pages.gpa(page) + at, len);
    }

    /** Drops the reference of a fragment handed out by {@link #alloc}, on {@code cpu}. */
    public void release(Frag f, int cpu) {
        pages.put(f.page(), cpu);
    }

    @Override
    public void save(tcesim.state.StateWriter out) {
        out.put(page, offset);
    }

    @Override
    public void restore(tcesim.state.StateReader in) {
        page = in.next();
        offset = in.nextInt();
    }
}
