package tcesim.guest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** skb_page_frag_refill (net/core/sock.c) with virtio-net's hole rule (add_recvbuf_mergeable). */
class PageFragTest {
    @Test
    void fragmentsFollowEachOtherAndTheLastTakesTheHole() {
        PageAllocator pa = new PageAllocator(0, 8, 16, 1);
        PageFrag f = new PageFrag(pa, PageUse.DMA_BUFFER, true);
        PageFrag.Frag a = f.alloc(0, 1536);
        PageFrag.Frag b = f.alloc(0, 1536);
        assertThat(b.gpa() - a.gpa()).isEqualTo(1536);
        for (int i = 2; i < 41; i++) f.alloc(0, 1536);
        PageFrag.Frag last = f.alloc(0, 1536);
        assertThat(last.len()).isEqualTo(2560);
        assertThat(last.gpa() + last.len()).isEqualTo(pa.gpa(a.page()) + 65536);
        assertThat(pa.refCount(a.page())).as("the allocator's own and 42 fragments'").isEqualTo(43);
        PageFrag.Frag next = f.alloc(0, 1536);
        assertThat(next.page()).isNotEqualTo(a.page());
        assertThat(pa.refCount(a.page())).isEqualTo(42);
    }

    /** "if (page_ref_count(pfrag->page) == 1) { pfrag->offset = 0; return true; }": every fragment done, the page is cut again from its start. */
    @Test
    void aPageWhoseFragmentsAreAllDoneIsReusedInPlace() {
        PageAllocator pa = new PageAllocator(0, 8, 16, 1);
        PageFrag f = new PageFrag(pa, PageUse.DMA_BUFFER, false);
        PageFrag.Frag a = f.alloc(0, 1512);
        PageFrag.Frag b = f.alloc(0, 1512);
        f.release(a, 0);
        f.release(b, 0);
        PageFrag.Frag c = f.alloc(0, 1512);
        assertThat(c.page()).isEqualTo(a.page());
        assertThat(c.gpa()).isEqualTo(a.gpa());
    }
}
