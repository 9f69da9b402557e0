package tcesim.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PageAllocatorTest {

    @Test
    void firstAllocationsAreAscendingFromFirstPfn() {
        PageAllocator pa = new PageAllocator(1000, 4);
        assertThat(pa.alloc()).isEqualTo(1000);
        assertThat(pa.alloc()).isEqualTo(1001);
        assertThat(pa.alloc()).isEqualTo(1002);
    }

    @Test
    void mostRecentlyFreedPageIsReusedFirst() {
        PageAllocator pa = new PageAllocator(0, 16);
        long a = pa.alloc(PageUse.DMA_BUFFER);
        long b = pa.alloc(PageUse.DMA_BUFFER);
        long c = pa.alloc(PageUse.DMA_BUFFER);
        assertThat(pa.free(a)).isTrue();
        assertThat(pa.free(c)).isTrue();
        assertThat(pa.free(b)).isTrue();
        // LIFO: b, then c, then a, then the never-used pages.
        assertThat(pa.alloc()).isEqualTo(b);
        assertThat(pa.alloc()).isEqualTo(c);
        assertThat(pa.alloc()).isEqualTo(a);
        assertThat(pa.alloc()).isEqualTo(3);
    }

    @Test
    void freedDmaBufferIsImmediatelyReusedForOtherData() {
        // The bug's pattern: RX buffer M1 freed, the next allocation gets M1 back.
        PageAllocator pa = new PageAllocator(0, 1024);
        long m1 = pa.alloc(PageUse.DMA_BUFFER);
        int gen = pa.generation(m1);
        pa.free(m1);
        long reused = pa.alloc(PageUse.KERNEL);
        assertThat(reused).isEqualTo(m1);
        assertThat(pa.use(m1)).isEqualTo(PageUse.KERNEL);
        assertThat(pa.generation(m1)).isEqualTo(gen + 1);
    }

    @Test
    void doubleFreeIsRejectedAndDoesNotCorruptTheFreeList() {
        PageAllocator pa = new PageAllocator(0, 4);
        long a = pa.alloc();
        assertThat(pa.free(a)).isTrue();
        assertThat(pa.free(a)).isFalse();
        assertThat(pa.badFrees()).isEqualTo(1);
        assertThat(pa.freeCount()).isEqualTo(4);
        // a is handed out once only.
        List<Long> got = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            got.add(pa.alloc());
        }
        assertThat(got).doesNotHaveDuplicates().containsExactlyInAnyOrder(0L, 1L, 2L, 3L);
        assertThat(pa.alloc()).isEqualTo(PageAllocator.NO_PAGE);
    }

    @Test
    void freeOfNeverAllocatedOrOutOfRangePageIsRejected() {
        PageAllocator pa = new PageAllocator(100, 4);
        assertThat(pa.free(101)).isFalse();
        assertThat(pa.free(99)).isFalse();
        assertThat(pa.free(104)).isFalse();
        assertThat(pa.badFrees()).isEqualTo(3);
        assertThat(pa.allocatedCount()).isZero();
    }

    @Test
    void exhaustionReturnsNoPage() {
        PageAllocator pa = new PageAllocator(0, 2);
        pa.alloc();
        pa.alloc();
        assertThat(pa.alloc()).isEqualTo(PageAllocator.NO_PAGE);
        assertThat(pa.allocatedCount()).isEqualTo(2);
    }

    @Test
    void tagsAndGenerations() {
        PageAllocator pa = new PageAllocator(0, 2);
        assertThat(pa.generation(0)).isZero();
        assertThat(pa.use(0)).isEqualTo(PageUse.FREE);
        assertThat(pa.isAllocated(0)).isFalse();
        long p = pa.alloc(PageUse.DMA_BUFFER);
        assertThat(pa.isAllocated(p)).isTrue();
        assertThat(pa.use(p)).isEqualTo(PageUse.DMA_BUFFER);
        assertThat(pa.generation(p)).isEqualTo(1);
        assertThat(pa.setUse(p, PageUse.KERNEL)).isTrue();
        assertThat(pa.generation(p)).isEqualTo(1);
        pa.free(p);
        assertThat(pa.setUse(p, PageUse.KERNEL)).isFalse();
        assertThat(pa.isAllocated(p)).isFalse();
        assertThat(pa.isAllocated(-5)).isFalse();
        assertThatThrownBy(() -> pa.alloc(PageUse.FREE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> pa.generation(7)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void randomSequencesMatchAReferenceStack() {
        for (long seed = 1; seed <= 200; seed++) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int n = 1 + rnd.nextInt(64);
            PageAllocator pa = new PageAllocator(rnd.nextInt(1000), n);
            boolean[] alloc = new boolean[n];
            int[] gens = new int[n];
            long[] lifo = new long[n]; // reference: freed PFNs, most recent last
            int lifoTop = 0;
            long base = pa.firstPfn();
            int count = 0;
            for (int step = 0; step < 500; step++) {
                String where = "seed " + seed + " step " + step;
                if (rnd.nextInt(3) > 0) {
                    long pfn = pa.alloc(PageUse.DMA_BUFFER);
                    if (count == n) {
                        assertThat(pfn).as(where).isEqualTo(PageAllocator.NO_PAGE);
                        continue;
                    }
                    assertThat(pfn).as(where).isBetween(base, base + n - 1);
                    int i = (int) (pfn - base);
                    assertThat(alloc[i]).as(where + ": handed out twice").isFalse();
                    if (lifoTop > 0) {
                        assertThat(pfn).as(where + ": LIFO").isEqualTo(lifo[--lifoTop]);
                    }
                    alloc[i] = true;
                    gens[i]++;
                    count++;
                    assertThat(pa.generation(pfn)).as(where).isEqualTo(gens[i]);
                } else {
                    int i = rnd.nextInt(n);
                    boolean ok = pa.free(base + i);
                    assertThat(ok).as(where + ": free accepted iff allocated").isEqualTo(alloc[i]);
                    if (ok) {
                        alloc[i] = false;
                        count--;
                        lifo[lifoTop++] = base + i;
                    }
                }
                assertThat(pa.allocatedCount()).as(where).isEqualTo(count);
            }
        }
    }

    /** free_unref_page_commit puts a freed page on the freeing CPU's list; __rmqueue_pcplist takes from the allocating CPU's. */
    @Test
    void eachCpuReusesWhatItFreedItself() {
        PageAllocator pa = new PageAllocator(0, 16, 16, 2);
        long a = pa.alloc(0, PageUse.DMA_BUFFER);
        long b = pa.alloc(1, PageUse.DMA_BUFFER);
        pa.put(a, 1);
        pa.put(b, 0);
        assertThat(pa.alloc(0, PageUse.KERNEL)).isEqualTo(b);
        assertThat(pa.alloc(1, PageUse.KERNEL)).isEqualTo(a);
        assertThat(pa.gpa(3)).isEqualTo(3L << 16);
        assertThat(pa.pageOf((3L << 16) + 5)).isEqualTo(3);
    }

    /** get_page / put_page: the page goes back only with its last reference. */
    @Test
    void aPageIsFreedWithItsLastReference() {
        PageAllocator pa = new PageAllocator(0, 4, 16, 1);
        long p = pa.alloc(0, PageUse.DMA_BUFFER);
        assertThat(pa.get(p)).isTrue();
        assertThat(pa.refCount(p)).isEqualTo(2);
        assertThat(pa.put(p, 0)).isTrue();
        assertThat(pa.isAllocated(p)).isTrue();
        assertThat(pa.put(p, 0)).isTrue();
        assertThat(pa.isAllocated(p)).isFalse();
        assertThat(pa.put(p, 0)).as("a put on a free page is a guest bug, refused").isFalse();
        assertThat(pa.badFrees()).isEqualTo(1);
    }
}
