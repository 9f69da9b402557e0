package tcesim.guest;

/**
 * What a guest page frame is currently used for: the owner tag of {@link PageAllocator}.
 *
 * <p>Models nothing precise in Linux (the kernel keeps such information spread over
 * {@code struct page} flags and the slab/skb owners); it is the minimum the simulation's
 * corruption oracle needs: is the page free, a buffer handed to a device for DMA, or anything
 * else the kernel uses it for.
 */
public enum PageUse {
    /** On the free list: nobody owns it. */
    FREE,
    /** Allocated to hold a buffer that is (or is about to be) mapped for DMA. */
    DMA_BUFFER,
    /** Allocated for any other kernel use (slab, page cache, ...): a device write here is corruption. */
    KERNEL;

    private static final PageUse[] VALUES = values();

    static PageUse ofOrdinal(int ordinal) {
        return VALUES[ordinal];
    }
}
