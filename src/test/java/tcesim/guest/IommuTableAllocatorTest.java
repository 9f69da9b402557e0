package tcesim.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IommuTableAllocatorTest {

    /** QEMU's default 32-bit window: bus 0, 1 GiB of 4 KiB pages. */
    private static IommuTableAllocator defaultWindow() {
        return new IommuTableAllocator(0, 1L << 18, 12);
    }

    @Test
    void geometryOfTheDefaultWindow() {
        IommuTableAllocator t = defaultWindow();
        assertThat(t.nrPools()).isEqualTo(4);
        assertThat(t.poolSize()).isEqualTo(49152); // (262144 * 3 / 4) / 4
        assertThat(t.poolStart(1)).isEqualTo(49152);
        assertThat(t.poolEnd(3)).isEqualTo(196608);
        assertThat(t.poolStart(t.largePool())).isEqualTo(196608);
        assertThat(t.poolEnd(t.largePool())).isEqualTo(262144);
        assertThat(t.poolOf(49151)).isZero();
        assertThat(t.poolOf(49152)).isEqualTo(1);
        assertThat(t.poolOf(196608)).isEqualTo(t.largePool());
    }

    @Test
    void tablesBelowOneGibHaveASinglePool() {
        IommuTableAllocator t = new IommuTableAllocator(0, 2048, 12); // 8 MiB
        assertThat(t.nrPools()).isEqualTo(1);
        assertThat(t.poolSize()).isEqualTo(1536);
        assertThat(t.poolStart(t.largePool())).isEqualTo(1536);
        // 1 GiB exactly is split; one entry less is not.
        assertThat(new IommuTableAllocator(0, (1L << 18) - 1, 12).nrPools()).isEqualTo(1);
        assertThat(new IommuTableAllocator(0, 1L << 14, 16).nrPools()).isEqualTo(4);
        // Every CPU then uses pool 0.
        for (int cpu = 0; cpu < 8; cpu++) {
            assertThat(t.poolForCpu(cpu)).isZero();
        }
    }

    @Test
    void entryZeroIsReservedOnlyWhenTheWindowStartsAtZero() {
        IommuTableAllocator t = defaultWindow();
        assertThat(t.isReserved(0)).isTrue();
        assertThat(t.isAllocated(0)).isFalse();
        assertThat(t.alloc(0, 1, 0)).isEqualTo(1);
        assertThat(t.free(0, 1)).isFalse();

        IommuTableAllocator high = new IommuTableAllocator(1L << 20, 4096, 12);
        assertThat(high.isReserved(1L << 20)).isFalse();
        assertThat(high.alloc(0, 1, 0)).isEqualTo(1L << 20);
    }

    @Test
    void reservedRangeIsNeverHandedOut() {
        IommuTableAllocator t = new IommuTableAllocator(0, 2048, 12, 16, 100, 200,
                IommuTableAllocator.pciSegBoundaryEntries(12));
        assertThat(t.isReserved(100)).isTrue();
        assertThat(t.isReserved(199)).isTrue();
        assertThat(t.isReserved(200)).isFalse();
        long e;
        while ((e = t.alloc(0, 1, 0)) != IommuTableAllocator.DMA_MAPPING_ERROR) {
            assertThat(e < 100 || e > 199).as("entry %d", e).isTrue();
        }
        assertThat(t.free(150, 1)).isFalse();
    }

    @Test
    void poolIsChosenByTheHashOfTheCpuNumber() {
        // hash_32(cpu, 2) = (cpu * 0x61C88647) >> 30, computed by hand.
        assertThat(IommuTableAllocator.cpuPoolHash(0)).isEqualTo(0);
        assertThat(IommuTableAllocator.cpuPoolHash(1)).isEqualTo(1);
        assertThat(IommuTableAllocator.cpuPoolHash(2)).isEqualTo(3);
        assertThat(IommuTableAllocator.cpuPoolHash(3)).isEqualTo(0);
        assertThat(IommuTableAllocator.cpuPoolHash(4)).isEqualTo(2);
        assertThat(IommuTableAllocator.cpuPoolHash(5)).isEqualTo(3);

        IommuTableAllocator t = defaultWindow();
        assertThat(t.alloc(0, 1, 0)).isEqualTo(1); // pool 0, entry 0 reserved
        assertThat(t.alloc(1, 1, 0)).isEqualTo(49152); // pool 1
        assertThat(t.alloc(2, 1, 0)).isEqualTo(3 * 49152); // pool 3
        assertThat(t.alloc(4, 1, 0)).isEqualTo(2 * 49152); // pool 2
        assertThat(t.alloc(3, 1, 0)).isEqualTo(16); // pool 0 again, after the bumped hint
    }

    @Test
    void hintAdvancesByWholeBlocksForSmallAllocations() {
        IommuTableAllocator t = defaultWindow();
        assertThat(t.alloc(0, 1, 0)).isEqualTo(1);
        assertThat(t.poolHint(0)).isEqualTo(16);
        assertThat(t.alloc(0, 3, 0)).isEqualTo(16);
        assertThat(t.poolHint(0)).isEqualTo(32);
        assertThat(t.alloc(0, 15, 0)).isEqualTo(32);
        assertThat(t.poolHint(0)).isEqualTo(48);
        assertThat(t.alloc(0, 1, 0)).isEqualTo(48);
        // Freeing does not move the hint: the freed entries are not reused yet.
        assertThat(t.free(16, 3)).isTrue();
        assertThat(t.poolHint(0)).isEqualTo(64);
        assertThat(t.alloc(0, 1, 0)).isEqualTo(64);
    }

    /**
     * The key property for the stale-IOTLB bug: with map/unmap of one page at a time, an IOVA comes
     * back only when the pool's hint wraps, poolsize / 16 allocations later (3072 on the default
     * window, the same order as vhost's 2048-entry IOTLB).
     */
    @Test
    void freedEntryIsReusedExactlyWhenThePoolWraps() {
        assertThat(reuseDistance(defaultWindow(), 0)).isEqualTo(3072);
        assertThat(reuseDistance(defaultWindow(), 1)).isEqualTo(3072);
        assertThat(reuseDistance(new IommuTableAllocator(0, 2048, 12), 0)).isEqualTo(96);
        // 2 GiB window: twice the distance.
        assertThat(reuseDistance(new IommuTableAllocator(0, 1L << 19, 12), 2)).isEqualTo(6144);
    }

    /** Maps and unmaps one page at a time on one cpu; returns how many maps until the 2nd IOVA returns. */
    private static int reuseDistance(IommuTableAllocator t, int cpu) {
        t.free(t.alloc(cpu, 1, 0), 1); // move off a possibly reserved pool start
        long watched = t.alloc(cpu, 1, 0);
        t.free(watched, 1);
        long wrapsBefore = t.wrapCount();
        for (int n = 1; n < 1_000_000; n++) {
            long e = t.alloc(cpu, 1, 0);
            assertThat(e).isNotEqualTo(IommuTableAllocator.DMA_MAPPING_ERROR);
            assertThat(t.poolOf(e)).isEqualTo(t.poolForCpu(cpu));
            t.free(e, 1);
            if (e == watched) {
                assertThat(t.wrapCount()).isEqualTo(wrapsBefore + 1);
                return n;
            }
        }
        return -1;
    }

    @Test
    void largeAllocationsGoToTheLargePoolAndBumpTheHintWithoutRounding() {
        IommuTableAllocator t = defaultWindow();
        long large = t.largePool();
        assertThat(t.alloc(0, 15, 0)).isEqualTo(1); // 15 pages: still small
        assertThat(t.alloc(2, 16, 0)).isEqualTo(196608);
        assertThat(t.poolHint(t.largePool())).isEqualTo(196624);
        assertThat(t.alloc(1, 17, 0)).isEqualTo(196624);
        assertThat(t.poolHint(t.largePool())).isEqualTo(196641); // end, not rounded to 16
        assertThat(t.poolOf(196641)).isEqualTo((int) large);
    }

    @Test
    void alignmentIsHonouredRelativeToTheTableStart() {
        IommuTableAllocator t = defaultWindow();
        t.alloc(0, 17, 0); // large pool hint now 196625, unaligned
        long e = t.alloc(0, 16, 5);
        assertThat(e).isEqualTo(196640);
        assertThat(e % 32).isZero();
        assertThat(t.alloc(0, 1, 4)).isEqualTo(16); // pool 0: first free is 1, aligned up to 16

        // With an odd it_offset the kernel aligns the bitmap index, not the absolute entry.
        IommuTableAllocator odd = new IommuTableAllocator(3, 4096, 12);
        odd.alloc(0, 1, 0);
        long a = odd.alloc(0, 2, 3);
        assertThat((a - odd.itOffset()) % 8).isZero();
        assertThat(a % 8).isEqualTo(3);
    }

    @Test
    void allocationDoesNotCrossTheSegmentBoundary() {
        IommuTableAllocator t = new IommuTableAllocator(0, 2048, 12, 1, 0, 0, 16);
        assertThat(t.alloc(0, 1, 0)).isEqualTo(1);
        assertThat(t.poolHint(0)).isEqualTo(2); // blocksize 1
        assertThat(t.alloc(0, 15, 0)).isEqualTo(16); // 2..16 would span the boundary at 16
        assertThat(t.alloc(0, 14, 0)).isEqualTo(32); // hint 31: 31..44 would span 32
    }

    @Test
    void fullTableReturnsErrorAndLastEntryOfEachPoolIsNeverUsed() {
        IommuTableAllocator t = new IommuTableAllocator(0, 2048, 12);
        int n = 0;
        while (t.alloc(0, 1, 0) != IommuTableAllocator.DMA_MAPPING_ERROR) {
            n++;
        }
        // 2048 entries minus reserved 0, minus the last of pool 0 (1535) and of the table (2047).
        assertThat(n).isEqualTo(2045);
        assertThat(t.allocatedCount()).isEqualTo(2045);
        assertThat(t.isAllocated(1535)).isFalse();
        assertThat(t.isAllocated(2047)).isFalse();
        assertThat(t.alloc(3, 1, 0)).isEqualTo(IommuTableAllocator.DMA_MAPPING_ERROR);
        assertThat(t.alloc(0, 16, 0)).isEqualTo(IommuTableAllocator.DMA_MAPPING_ERROR);
        assertThat(t.alloc(0, 0, 0)).isEqualTo(IommuTableAllocator.DMA_MAPPING_ERROR);

        // Four pools, window not at 0 (no reservation): the last entry of each of the 5 pools stays free.
        IommuTableAllocator four = new IommuTableAllocator(0x10000, 1L << 14, 16);
        n = 0;
        while (four.alloc(1, 1, 0) != IommuTableAllocator.DMA_MAPPING_ERROR) {
            n++;
        }
        assertThat(n).isEqualTo((1 << 14) - 5);
        for (int p = 0; p <= four.nrPools(); p++) {
            assertThat(four.isAllocated(four.poolEnd(p) - 1)).as("pool %d", p).isFalse();
        }
    }

    @Test
    void exhaustedPoolFallsBackToTheNextPoolWhoseHintIsReset() {
        IommuTableAllocator t = new IommuTableAllocator(0, 1L << 14, 16); // 4 pools of 3072
        // cpu 1 uses pool 1 and moves its hint past three freed entries.
        long a = t.alloc(1, 1, 0);
        t.alloc(1, 1, 0);
        t.alloc(1, 1, 0);
        assertThat(a).isEqualTo(3072);
        assertThat(t.free(a, 1)).isTrue();
        assertThat(t.poolHint(1)).isEqualTo(3072 + 48);
        // Fill pool 0 (entries 1..3070) from cpu 0.
        for (int i = 0; i < 3070; i++) {
            assertThat(t.poolOf(t.alloc(0, 1, 0))).isZero();
        }
        // Pool 0 is full: next pool is 1, searched from its start: the freed entry comes back early.
        assertThat(t.alloc(0, 1, 0)).isEqualTo(a);
        assertThat(t.poolHint(0)).isEqualTo(0); // reset by pass 1
        assertThat(t.poolHint(1)).isEqualTo(3072 + 16);
    }

    @Test
    void smallAllocationFallsBackToTheLargePoolLast() {
        IommuTableAllocator t = new IommuTableAllocator(0, 2048, 12);
        for (int i = 0; i < 1534; i++) {
            assertThat(t.alloc(0, 1, 0)).isLessThan(1535);
        }
        assertThat(t.alloc(0, 1, 0)).isEqualTo(1536);
        assertThat(t.poolHint(t.largePool())).isEqualTo(1552); // small: rounded to blocksize
    }

    @Test
    void badFreesAreRejectedWithoutChangingState() {
        IommuTableAllocator t = defaultWindow();
        long e = t.alloc(0, 4, 0);
        assertThat(t.free(e, 5)).isFalse(); // one entry past the allocation is free
        assertThat(t.isAllocated(e + 3)).isTrue();
        assertThat(t.free(262143, 2)).isFalse(); // out of the table
        assertThat(t.free(-1, 1)).isFalse();
        assertThat(t.free(e, 0)).isFalse();
        assertThat(t.free(e, 4)).isTrue();
        assertThat(t.free(e, 4)).isFalse(); // double free
        assertThat(t.badFrees()).isEqualTo(5);
        assertThat(t.allocatedCount()).isZero();
    }

    // ---- seeded random sequences against a boolean[] reference ----

    @Test
    void randomSequencesKeepTheInvariants() {
        int cases = Integer.getInteger("tcesim.prop.cases", 2000);
        for (long seed = 1; seed <= cases; seed++) {
            runCase(seed);
        }
    }

    private static void runCase(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        boolean fourPools = rnd.nextBoolean();
        int size = 64 + rnd.nextInt(fourPools ? 1024 : 2048);
        int pageShift = fourPools ? 30 : 12; // size << 30 >= 1 GiB -> 4 pools
        long offset = rnd.nextBoolean() ? 0 : rnd.nextInt(1 << 16);
        int block = 1 << rnd.nextInt(5);
        long boundary = 1L << (4 + rnd.nextInt(12));
        long resStart = offset + rnd.nextInt(size);
        long resEnd = rnd.nextInt(4) == 0 ? resStart + rnd.nextInt(64) : resStart;
        IommuTableAllocator t = new IommuTableAllocator(offset, size, pageShift, block, resStart,
                resEnd, boundary);
        String tag = "seed " + seed + " (size " + size + ", offset " + offset + ", pools "
                + t.nrPools() + ", block " + block + ", boundary " + boundary + ")";
        check(t.nrPools() == (fourPools ? 4 : 1), tag + ": pool count");

        boolean[] used = new boolean[size]; // reference: entries handed out
        List<long[]> live = new ArrayList<>(); // {entry, npages}
        long count = 0;
        int steps = 100 + rnd.nextInt(400);
        for (int step = 0; step < steps; step++) {
            String where = tag + " step " + step;
            int op = rnd.nextInt(10);
            if (op < 6 || live.isEmpty()) {
                int cpu = rnd.nextInt(8);
                int npages = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(40) : 1 + rnd.nextInt(3);
                int align = rnd.nextInt(4) == 0 ? rnd.nextInt(4) : 0;
                long e = t.alloc(cpu, npages, align);
                if (e == IommuTableAllocator.DMA_MAPPING_ERROR) {
                    check(!anyFit(t, used, npages, align, boundary), where + ": refused although a pool has room");
                    continue;
                }
                long rel = e - offset;
                check(rel >= 0 && rel + npages <= size, where + ": out of table " + e);
                check(rel % (1L << align) == 0, where + ": misaligned " + e);
                check(((e & (boundary - 1)) + npages) <= boundary, where + ": spans boundary " + e);
                for (int i = 0; i < npages; i++) {
                    check(!used[(int) rel + i], where + ": entry " + (e + i) + " handed out twice");
                    check(!t.isReserved(e + i), where + ": reserved entry " + (e + i) + " handed out");
                    used[(int) rel + i] = true;
                }
                live.add(new long[] {e, npages});
                count += npages;
            } else if (op < 9) {
                long[] a = live.remove(rnd.nextInt(live.size()));
                check(t.free(a[0], (int) a[1]), where + ": free of live " + a[0] + "+" + a[1] + " refused");
                for (int i = 0; i < a[1]; i++) {
                    used[(int) (a[0] - offset) + i] = false;
                }
                count -= a[1];
            } else {
                // A bad free: an entry range that is not (wholly) allocated must be refused.
                long e = offset + rnd.nextInt(size);
                int n = 1 + rnd.nextInt(3);
                boolean allUsed = e - offset + n <= size;
                for (int i = 0; allUsed && i < n; i++) {
                    allUsed = used[(int) (e - offset) + i];
                }
                if (!allUsed) {
                    check(!t.free(e, n), where + ": bad free " + e + "+" + n + " accepted");
                }
            }
            check(t.allocatedCount() == count, where + ": allocatedCount " + t.allocatedCount() + " != " + count);
            if (step % 25 == 0 || step == steps - 1) {
                for (int i = 0; i < size; i++) {
                    check(t.isAllocated(offset + i) == used[i], where + ": isAllocated(" + (offset + i) + ")");
                }
            }
        }
    }

    /** Reference: does any pool (searched from its start, last entry excluded) have room? */
    private static boolean anyFit(IommuTableAllocator t, boolean[] used, int npages, int align,
            long boundary) {
        long off = t.itOffset();
        for (int p = 0; p <= t.nrPools(); p++) {
            long start = t.poolStart(p) - off;
            long lastExcl = t.poolEnd(p) - off - 1;
            for (long i = start; i + npages <= lastExcl; i++) {
                if (i % (1L << align) != 0 || (((off + i) & (boundary - 1)) + npages) > boundary) {
                    continue;
                }
                boolean free = true;
                for (int k = 0; free && k < npages; k++) {
                    free = !used[(int) (i + k)] && !t.isReserved(off + i + k);
                }
                if (free) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            fail(message);
        }
    }
}
