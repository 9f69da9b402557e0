package tcesim.vfio;

import java.util.List;
import tcesim.testutil.States;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PhbTceCacheTest {
    private static long tce(long page) {
        return HwTceTable.DEFAULT_HPA_BASE + (page << 12) | 3;
    }

    @Test
    void defaultCapacityIs1024() {
        assertThat(new PhbTceCache().capacity()).isEqualTo(1024);
    }

    @Test
    void missFillHitAreCounted() {
        PhbTceCache c = new PhbTceCache(16);
        assertThat(c.lookup(5)).isEqualTo(PhbTceCache.MISS);
        c.fill(5, tce(9));
        assertThat(c.lookup(5)).isEqualTo(tce(9));
        assertThat(c.hits()).isEqualTo(1);
        assertThat(c.misses()).isEqualTo(1);
        assertThat(c.fills()).isEqualTo(1);
        assertThat(c.occupied()).isEqualTo(1);
        // peek does not count.
        assertThat(c.peek(5)).isEqualTo(tce(9));
        assertThat(c.hits()).isEqualTo(1);
    }

    @Test
    void invalidEntriesAreNotCached() {
        PhbTceCache c = new PhbTceCache(16);
        c.fill(3, 0);
        assertThat(c.isCached(3)).isFalse();
        assertThat(c.occupied()).isZero();
    }

    @Test
    void directMappedAliasesEvictEachOther() {
        PhbTceCache c = new PhbTceCache(8);
        c.fill(3, tce(1));
        c.fill(11, tce(2)); // 11 mod 8 == 3
        assertThat(c.isCached(3)).isFalse();
        assertThat(c.peek(11)).isEqualTo(tce(2));
        assertThat(c.evictions()).isEqualTo(1);
        assertThat(c.occupied()).isEqualTo(1);
        // Refilling the same index is not an eviction.
        c.fill(11, tce(4));
        assertThat(c.evictions()).isEqualTo(1);
    }

    @Test
    void capacityConsecutiveIndicesAllStayCached() {
        PhbTceCache c = new PhbTceCache(8);
        for (long i = 100; i < 108; i++) c.fill(i, tce(i));
        assertThat(c.occupied()).isEqualTo(8);
        for (long i = 100; i < 108; i++) assertThat(c.peek(i)).isEqualTo(tce(i));
        c.fill(108, tce(108)); // one more: replaces 100 only
        assertThat(c.isCached(100)).isFalse();
        for (long i = 101; i <= 108; i++) assertThat(c.isCached(i)).isTrue();
    }

    @Test
    void rangeInvalidationDropsExactlyTheRange() {
        PhbTceCache c = new PhbTceCache(16);
        for (long i = 0; i < 16; i++) c.fill(i, tce(i));
        assertThat(c.invalidate(4, 6)).isEqualTo(6);
        assertThat(c.isCached(3)).isTrue();
        for (long i = 4; i < 10; i++) assertThat(c.isCached(i)).as("entry %d", i).isFalse();
        assertThat(c.isCached(10)).isTrue();
        assertThat(c.kills()).isEqualTo(1);
        assertThat(c.killedEntries()).isEqualTo(6);
        assertThat(c.occupied()).isEqualTo(10);
    }

    @Test
    void rangeInvalidationDoesNotHitAliasesOutsideTheRange() {
        PhbTceCache c = new PhbTceCache(8);
        c.fill(13, tce(13)); // slot 5
        assertThat(c.invalidate(5, 1)).isZero(); // 5 shares the slot but is not cached
        assertThat(c.isCached(13)).isTrue();
    }

    @Test
    void rangesLargerThanTheCacheScanEverySlot() {
        PhbTceCache c = new PhbTceCache(8);
        for (long i = 100; i < 108; i++) c.fill(i, tce(i));
        assertThat(c.invalidate(101, 1000)).isEqualTo(7);
        assertThat(c.isCached(100)).isTrue();
        c.fill(2000, tce(1));
        assertThat(c.invalidate(0, 2000)).isEqualTo(1); // 100 in range, 2000 just past it
        assertThat(c.isCached(2000)).isTrue();
    }

    @Test
    void zeroPageKillDropsNothingButIsCounted() {
        PhbTceCache c = new PhbTceCache(8);
        c.fill(4, tce(4));
        assertThat(c.invalidate(4, 0)).isZero();
        assertThat(c.isCached(4)).isTrue();
        assertThat(c.kills()).isEqualTo(1);
    }

    @Test
    void peKillDropsEverything() {
        PhbTceCache c = new PhbTceCache(8);
        for (long i = 0; i < 5; i++) c.fill(i * 3, tce(i));
        assertThat(c.invalidateAll()).isEqualTo(5);
        assertThat(c.occupied()).isZero();
    }

    @Test
    void savedStateFollowsContentsNotCounters() {
        PhbTceCache c = new PhbTceCache(8);
        List<Long> empty = States.of(c);
        c.lookup(3);
        assertThat(States.of(c)).isEqualTo(empty);
        c.fill(3, tce(3));
        List<Long> one = States.of(c);
        assertThat(one).isNotEqualTo(empty);
        c.lookup(3);
        assertThat(States.of(c)).isEqualTo(one);
        c.fill(3, tce(4));
        assertThat(States.of(c)).isNotEqualTo(one);
        c.invalidate(3, 1);
        assertThat(States.of(c)).isEqualTo(empty);
        // The capacity is configuration, not state.
        assertThat(States.of(new PhbTceCache(16))).isEqualTo(empty);
        c.fill(2, tce(2));
        c.fill(7, tce(7));
        PhbTceCache d = States.copyInto(c, new PhbTceCache(8));
        assertThat(d.peek(7)).isEqualTo(tce(7));
        assertThat(d.peek(3)).isEqualTo(PhbTceCache.MISS);
        assertThat(d.occupied()).isEqualTo(2);
    }
}
